"""The API's conventions: trailing slashes without redirects, the error envelope, OpenAPI."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from tests.api.conftest import Catalog
from tests.conftest import Account

# The paths of API.md implemented by the parts under test (others add theirs as they land).
CONTRACT_PATHS = {
    "/auth/register": {"post"},
    "/auth/token": {"post"},
    "/users/me": {"get"},
    "/movies": {"get", "post"},
    "/movies/{movie_id}": {"get", "put", "patch", "delete"},
    "/movies/popular": {"get"},
    "/movies/top-rated": {"get"},
    "/movies/upcoming": {"get"},
    "/movies/now-playing": {"get"},
    "/genres": {"get"},
    "/health": {"get"},
    "/ready": {"get"},
}


def assert_envelope(body: dict[str, Any], code: str) -> None:
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["code"] == code


class TestTrailingSlash:
    @pytest.mark.parametrize(
        "path", ["/movies", "/genres", "/movies/popular", "/movies/top-rated", "/health"]
    )
    async def test_get_answers_the_same_with_and_without_slash(
        self, client: AsyncClient, path: str
    ) -> None:
        bare = await client.get(path)
        slashed = await client.get(path + "/")
        assert bare.status_code == slashed.status_code == 200
        assert bare.json() == slashed.json()

    async def test_movie_by_id_with_slash(self, client: AsyncClient, catalog: Catalog) -> None:
        movie = await catalog.movie()
        slashed = await client.get(f"/movies/{movie.id}/")
        assert slashed.status_code == 200
        assert slashed.json() == (await client.get(f"/movies/{movie.id}")).json()

    async def test_query_string_survives_the_slash(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        await catalog.movie()
        await catalog.movie()
        body = (await client.get("/movies/?per_page=1&page=2")).json()
        assert (body["page"], body["per_page"]) == (2, 1)
        assert len(body["results"]) == 1

    @pytest.mark.parametrize("path", ["/auth/register", "/auth/register/"])
    async def test_post_register_works_on_both(self, client: AsyncClient, path: str) -> None:
        body = {"email": f"slash-{uuid.uuid4().hex[:8]}@example.com", "password": "long enough"}
        response = await client.post(path, json=body)
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize("path", ["/users/me", "/users/me/"])
    async def test_me_works_on_both(self, client: AsyncClient, user: Account, path: str) -> None:
        response = await client.get(path, headers=user.headers)
        assert response.status_code == 200
        assert response.json()["id"] == user.id

    async def test_token_works_with_slash(self, client: AsyncClient, user: Account) -> None:
        form = {"username": user.user.email, "password": "password123"}
        response = await client.post("/auth/token/", data=form)
        assert response.status_code == 200, response.text

    async def test_writes_work_with_slash(self, client: AsyncClient, admin: Account) -> None:
        created = await client.post("/movies/", json={"title": "Slash"}, headers=admin.headers)
        assert created.status_code == 201, created.text
        url = f"/movies/{created.json()['id']}/"
        assert (
            await client.put(url, json={"runtime": 90}, headers=admin.headers)
        ).status_code == 200
        assert (
            await client.patch(url, json={"runtime": 91}, headers=admin.headers)
        ).status_code == 200
        assert (await client.delete(url, headers=admin.headers)).status_code == 204

    async def test_no_route_ever_redirects(self, client: AsyncClient, catalog: Catalog) -> None:
        movie = await catalog.movie()
        paths = (await client.get("/openapi.json")).json()["paths"]
        checked = 0
        for template, operations in paths.items():
            path = template.replace("{movie_id}", str(movie.id))
            if "{" in path:
                continue
            for method in operations:
                for variant in (path, path.rstrip("/") + "/"):
                    response = await client.request(method.upper(), variant)
                    assert not 300 <= response.status_code < 400, (
                        method,
                        variant,
                        response.status_code,
                    )
                    checked += 1
        assert checked >= 30


class TestErrorEnvelope:
    @pytest.mark.parametrize("path", ["/nope", "/nope/", "/movies/1/nope", "/movies/nope/"])
    async def test_unknown_path_is_404_envelope(self, client: AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 404
        assert_envelope(response.json(), "not_found")

    @pytest.mark.parametrize(
        ("method", "path"), [("DELETE", "/genres"), ("PUT", "/movies"), ("POST", "/users/me/")]
    )
    async def test_wrong_method_is_405_envelope(
        self, client: AsyncClient, method: str, path: str
    ) -> None:
        response = await client.request(method, path)
        assert response.status_code == 405
        assert_envelope(response.json(), "method_not_allowed")
        assert response.headers.get("allow")

    async def test_framework_422_carries_errors(self, client: AsyncClient) -> None:
        response = await client.get("/movies", params={"per_page": "many"})
        assert response.status_code == 422
        body = response.json()
        assert_envelope(body, "validation_error")
        assert body["errors"][0]["loc"] == ["query", "per_page"]
        assert "per_page" in body["detail"]

    @pytest.mark.parametrize(
        ("content", "content_type"),
        [
            (b'{"email": "a@example.com", "password": ', "application/json"),
            (b"\xff\xfe\x00garbage", "application/json"),
            (b"", "application/json"),
            (b"null", "application/json"),
            (b"email=a@example.com", "text/plain"),
        ],
        ids=["truncated", "not-utf8", "empty", "null", "not-json"],
    )
    async def test_malformed_body_is_422_not_500(
        self, client: AsyncClient, content: bytes, content_type: str
    ) -> None:
        response = await client.post(
            "/auth/register", content=content, headers={"content-type": content_type}
        )
        assert response.status_code == 422, response.text
        body = response.json()
        assert_envelope(body, "validation_error")
        assert isinstance(body["errors"], list) and body["errors"]

    async def test_malformed_json_on_an_admin_write_is_422(
        self, client: AsyncClient, admin: Account
    ) -> None:
        headers = {**admin.headers, "content-type": "application/json"}
        response = await client.post("/movies", content=b"{title: nope}", headers=headers)
        assert response.status_code == 422
        assert_envelope(response.json(), "validation_error")

    async def test_401_and_403_use_the_envelope(self, client: AsyncClient, user: Account) -> None:
        anonymous = await client.post("/movies", json={"title": "x"})
        assert anonymous.status_code == 401
        assert set(anonymous.json()) == {"detail", "code"}
        forbidden = await client.post("/movies", json={"title": "x"}, headers=user.headers)
        assert forbidden.status_code == 403
        assert set(forbidden.json()) == {"detail", "code"}

    async def test_auth_is_checked_before_the_body(self, client: AsyncClient) -> None:
        # an anonymous caller learns nothing about the body's shape
        response = await client.post("/movies", json={"title": ""})
        assert response.status_code in (401, 422)
        assert response.status_code != 500


class TestOpenAPI:
    async def test_openapi_lists_the_contract_paths(self, client: AsyncClient) -> None:
        response = await client.get("/openapi.json")
        assert response.status_code == 200
        paths = response.json()["paths"]
        for path, methods in CONTRACT_PATHS.items():
            assert path in paths, f"{path} missing from OpenAPI"
            assert methods <= set(paths[path]), (path, set(paths[path]))

    async def test_every_operation_has_a_summary_and_a_description(
        self, client: AsyncClient
    ) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        bare = [
            f"{method.upper()} {path}"
            for path, operations in paths.items()
            for method, operation in operations.items()
            if not (operation.get("summary") and operation.get("description"))
        ]
        assert bare == [], "what app developers read in the docs"

    async def test_openapi_has_no_slash_duplicates(self, client: AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert not [p for p in paths if p != "/" and p.endswith("/")]

    @pytest.mark.parametrize("path", ["/docs", "/docs/", "/openapi.json/"])
    async def test_docs_answer(self, client: AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 200
