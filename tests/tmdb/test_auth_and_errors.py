"""The rules of every /3 route: the API key check (query or Bearer), TMDB's error body and
codes for every error (the framework's own included), unknown paths, methods and parameters;
and native error rendering left as it was."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Query
from httpx import ASGITransport, AsyncClient
from sqlalchemy.exc import OperationalError

from api.errors import Conflict, NotFound, ServiceUnavailable
from api.tmdb.handlers import install_tmdb_error_handlers
from api.tmdb.paging import TmdbPage, TmdbPageDep
from tests.conftest import Account
from tests.tmdb.conftest import MakeKey

GENRES = "/3/genre/movie/list"
INVALID_KEY = {
    "success": False,
    "status_code": 7,
    "status_message": "Invalid API key: You must be granted a valid key.",
}
NOT_FOUND = {
    "success": False,
    "status_code": 34,
    "status_message": "The resource you requested could not be found.",
}
INVALID_PAGE = {
    "success": False,
    "status_code": 22,
    "status_message": (
        "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer."
    ),
}


def assert_tmdb_error(response: Any, status: int, body: dict[str, Any]) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body


class TestApiKeyCheck:
    async def test_a_key_as_api_key_parameter_is_accepted(
        self, client: AsyncClient, api_key: str
    ) -> None:
        assert (await client.get(GENRES, params={"api_key": api_key})).status_code == 200

    async def test_a_key_as_bearer_token_is_accepted(
        self, client: AsyncClient, api_key: str
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"}
        assert (await client.get(GENRES, headers=headers)).status_code == 200

    async def test_no_key_returns_tmdbs_401_code_7(self, client: AsyncClient) -> None:
        assert_tmdb_error(await client.get(GENRES), 401, INVALID_KEY)

    @pytest.mark.parametrize("key", ["0" * 32, "not-a-key", "", "x" * 5000])
    async def test_an_unknown_key_returns_401_code_7(self, client: AsyncClient, key: str) -> None:
        assert_tmdb_error(await client.get(GENRES, params={"api_key": key}), 401, INVALID_KEY)

    async def test_an_unknown_bearer_key_returns_401_code_7(self, client: AsyncClient) -> None:
        headers = {"Authorization": "Bearer " + "1" * 32}
        assert_tmdb_error(await client.get(GENRES, headers=headers), 401, INVALID_KEY)

    async def test_a_marquee_access_token_is_not_an_api_key(
        self, client: AsyncClient, user: Account
    ) -> None:
        assert_tmdb_error(await client.get(GENRES, headers=user.headers), 401, INVALID_KEY)

    async def test_a_bad_api_key_is_refused_even_with_a_good_bearer(
        self, client: AsyncClient, api_key: str
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"}
        response = await client.get(GENRES, params={"api_key": "0" * 32}, headers=headers)
        assert_tmdb_error(response, 401, INVALID_KEY)

    async def test_a_revoked_key_is_refused_while_its_answer_is_cached(
        self, client: AsyncClient, user: Account, make_key: MakeKey, cache_on: Any
    ) -> None:
        key_id, key = await make_key(user)
        for _ in range(2):  # the second is a cache hit
            assert (await client.get(GENRES, params={"api_key": key})).status_code == 200
        await client.delete(f"/users/me/api-keys/{key_id}", headers=user.headers)
        assert_tmdb_error(await client.get(GENRES, params={"api_key": key}), 401, INVALID_KEY)
        assert_tmdb_error(await client.get(GENRES), 401, INVALID_KEY)


class TestRouting:
    @pytest.mark.parametrize(
        "path", ["/3/tv/1399", "/3/collection/10", "/3/nothing/here", "/3", "/3/"]
    )
    async def test_an_unknown_path_returns_tmdbs_404_code_34(
        self, client: AsyncClient, api_key: str, path: str
    ) -> None:
        response = await client.get(path, params={"api_key": api_key})
        assert_tmdb_error(response, 404, NOT_FOUND)

    async def test_an_unknown_path_without_a_key_is_also_404_code_34(
        self, client: AsyncClient
    ) -> None:
        assert_tmdb_error(await client.get("/3/tv/popular"), 404, NOT_FOUND)

    async def test_a_wrong_method_returns_405_code_42(
        self, client: AsyncClient, api_key: str
    ) -> None:
        response = await client.post(GENRES, params={"api_key": api_key}, json={})
        body = {
            "success": False,
            "status_code": 42,
            "status_message": "This request method is not supported for this resource.",
        }
        assert_tmdb_error(response, 405, body)
        assert response.headers["allow"] == "GET"

    async def test_a_trailing_slash_answers_without_a_redirect(
        self, client: AsyncClient, api_key: str
    ) -> None:
        assert (await client.get(GENRES + "/", params={"api_key": api_key})).status_code == 200

    async def test_parameters_clients_always_send_are_accepted_and_ignored(
        self, client: AsyncClient, api_key: str
    ) -> None:
        plain = await client.get(GENRES, params={"api_key": api_key})
        extras = (
            f"{GENRES}?api_key={api_key}&&language=en-US&region=US&watch_region=US"
            "&include_adult=false&include_image_language=null&per_page=50&page=1"
        )
        headers = {"Content-Type": "application/json"}  # tmdbsimple sends it on every GET
        response = await client.get(extras, headers=headers)
        assert response.status_code == 200
        assert response.json() == plain.json()

    async def test_the_layer_has_its_own_openapi(self, client: AsyncClient) -> None:
        tmdb = (await client.get("/3/openapi.json")).json()
        assert "/genre/movie/list" in tmdb["paths"]
        assert "/configuration/languages" in tmdb["paths"]
        assert (await client.get("/3/docs")).status_code == 200
        native = (await client.get("/openapi.json")).json()
        assert not [path for path in native["paths"] if path.startswith("/3")]

    async def test_native_errors_keep_their_shape(self, client: AsyncClient) -> None:
        response = await client.get("/no/such/path")
        assert response.status_code == 404
        assert set(response.json()) == {"detail", "code"}


@pytest.fixture(scope="module")
def probe() -> FastAPI:
    """A bare app with the /3 handlers, for errors the layer's routes cannot raise yet (its
    paged lists and writes come later)."""
    app = FastAPI()
    install_tmdb_error_handlers(app)

    @app.get("/paged")
    async def paged(params: TmdbPageDep) -> TmdbPage[int]:
        return TmdbPage.build(params, 45, [params.page])

    @app.get("/typed")
    async def typed(year: Annotated[int, Query()], adult: bool = False) -> dict[str, Any]:
        return {"year": year, "adult": adult}

    @app.post("/body")
    async def body(value: dict[str, float]) -> dict[str, float]:
        return value

    raises = {
        "/missing": NotFound("no such movie"),
        "/conflict": Conflict("taken"),
        "/search-down": ServiceUnavailable("search is down", headers={"Retry-After": "5"}),
        "/database-down": OperationalError("SELECT 1", {}, ConnectionError("gone")),
        "/crash": RuntimeError("boom"),
    }
    for path, exc in raises.items():
        app.add_api_route(path, _raiser(exc))
    return app


def _raiser(exc: Exception) -> Any:
    async def route() -> None:
        raise exc

    return route


@pytest.fixture
async def probe_client(probe: FastAPI) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=probe, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


class TestErrorBodies:
    @pytest.mark.parametrize("page", ["0", "501", "abc", "-1", "1.5"])
    async def test_a_bad_page_returns_400_code_22(
        self, probe_client: AsyncClient, page: str
    ) -> None:
        response = await probe_client.get("/paged", params={"page": page})
        assert_tmdb_error(response, 400, INVALID_PAGE)

    @pytest.mark.parametrize(("page", "total_pages"), [("1", 3), ("500", 3)])
    async def test_pages_1_to_500_answer_the_envelope(
        self, probe_client: AsyncClient, page: str, total_pages: int
    ) -> None:
        body = (await probe_client.get("/paged", params={"page": page, "per_page": 5})).json()
        assert body == {
            "page": int(page),
            "results": [int(page)],
            "total_pages": total_pages,
            "total_results": 45,
        }

    async def test_another_bad_parameter_returns_422_code_5(
        self, probe_client: AsyncClient
    ) -> None:
        for params in ({"year": "abc"}, {}, {"year": "2000", "adult": "maybe"}):
            response = await probe_client.get("/typed", params=params)
            assert response.status_code == 422
            assert response.json()["status_code"] == 5

    @pytest.mark.parametrize("flag", ["true", "True", "1", "false", "False", "0"])
    async def test_booleans_in_every_spelling_clients_use(
        self, probe_client: AsyncClient, flag: str
    ) -> None:
        response = await probe_client.get("/typed", params={"year": "2000", "adult": flag})
        assert response.json()["adult"] is (flag in ("true", "True", "1"))

    async def test_a_body_that_is_not_json_returns_400_code_18(
        self, probe_client: AsyncClient
    ) -> None:
        headers = {"Content-Type": "application/json"}
        response = await probe_client.post("/body", content=b"{not json", headers=headers)
        assert response.status_code == 400
        assert response.json() == {
            "success": False,
            "status_code": 18,
            "status_message": "Validation failed.",
        }

    @pytest.mark.parametrize(
        ("path", "status", "code"),
        [
            ("/missing", 404, 34),
            ("/conflict", 422, 5),
            ("/search-down", 503, 9),
            ("/database-down", 503, 9),
            ("/crash", 500, 11),
        ],
    )
    async def test_marquee_errors_and_crashes_get_tmdb_bodies(
        self, probe_client: AsyncClient, path: str, status: int, code: int
    ) -> None:
        response = await probe_client.get(path)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert body["success"] is False
        assert body["status_code"] == code
        assert isinstance(body["status_message"], str)
        if status == 503:
            assert "retry-after" in response.headers
