"""The hardened edge: security headers and CSPs, CORS, no-store token answers, docs switched
off, /ready's wording, and the serving command's header size and slow-client limits (the
Procfile's command, run for real)."""

import base64
import contextlib
import hashlib
import json
import logging
import re
import shlex
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from arq import ArqRedis
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from api.edges import API_POLICY
from api.main import create_app
from api.serving import HEAD_TIMEOUT_SECONDS, MAX_HEAD_BYTES, UVICORN_OPTIONS
from api.settings import Settings
from devstack.servers import free_port
from tests.conftest import Account
from tests.tmdb.live import procfile_web, serving, start_procfile_web

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = "https://app.example"
REFUSED = "https://evil.example"
SECURITY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def assert_secured(response: httpx.Response, policy: str = API_POLICY) -> None:
    assert {name: response.headers.get(name) for name in SECURITY} == SECURITY
    assert response.headers["content-security-policy"] == policy


def directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        found[name] = values
    return found


def inline_script_hashes(html: str) -> list[str]:
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    digests = (hashlib.sha256(script.encode()).digest() for script in scripts)
    return [f"'sha256-{base64.b64encode(digest).decode()}'" for digest in digests]


class TestSecurityHeaders:
    async def test_a_json_answer_carries_them(self, client: AsyncClient) -> None:
        response = await client.get("/health")
        assert_secured(response)
        assert "strict-transport-security" not in response.headers

    async def test_errors_and_refusals_before_routing_carry_them(self, client: AsyncClient) -> None:
        assert_secured(await client.get("/movies/2147483647"))
        too_big = await client.post(
            "/movies", content=b"{}", headers={"Content-Length": str(2 * 1024 * 1024)}
        )
        assert too_big.status_code == 413
        assert_secured(too_big)

    async def test_the_tmdb_layer_carries_them(self, client: AsyncClient) -> None:
        response = await client.get("/3/configuration")
        assert response.status_code == 401
        assert_secured(response)

    async def test_a_cache_hit_answered_before_routing_carries_them(
        self, client: AsyncClient, cache_on: Any
    ) -> None:
        first = await client.get("/genres")
        hit = await client.get("/genres", headers={"If-None-Match": first.headers["etag"]})
        assert hit.status_code == 304
        assert_secured(hit)

    async def test_hsts_only_over_https(self, app: Any) -> None:
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="https://test") as https:
            response = await https.get("/health")
        assert response.headers["strict-transport-security"] == "max-age=31536000"
        assert_secured(response)


class TestDocsPolicies:
    @pytest.mark.parametrize("path", ["/docs", "/3/docs", "/docs/oauth2-redirect"])
    async def test_swagger_pages_may_run_exactly_their_own_scripts(
        self, client: AsyncClient, path: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == 200
        policy = directives(response.headers["content-security-policy"])
        sources = re.findall(r'<script src="([^"]+)"', response.text)
        hashes = inline_script_hashes(response.text)
        assert hashes, "every swagger page has an inline script"
        assert sorted(policy["script-src"]) == sorted([*sources, *hashes])
        assert policy["default-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["connect-src"] == ["'self'"]

    async def test_the_swagger_page_loads_its_stylesheet_from_the_cdn_only(
        self, client: AsyncClient
    ) -> None:
        response = await client.get("/docs")
        policy = directives(response.headers["content-security-policy"])
        [stylesheet] = re.findall(r'rel="stylesheet" href="([^"]+)"', response.text)
        assert stylesheet.startswith("https://cdn.jsdelivr.net/npm/swagger-ui-dist@")
        assert policy["style-src"] == [stylesheet, "'unsafe-inline'"]

    async def test_redoc_may_load_its_bundle_fonts_and_search_worker(
        self, client: AsyncClient
    ) -> None:
        response = await client.get("/redoc/")
        assert response.status_code == 200
        policy = directives(response.headers["content-security-policy"])
        [bundle] = re.findall(r'<script src="([^"]+)"', response.text)
        assert policy["script-src"] == [bundle]
        assert policy["worker-src"] == ["blob:"]
        assert policy["font-src"] == ["https://fonts.gstatic.com"]
        assert (
            "https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700"
            in (policy["style-src"])
        )

    async def test_the_openapi_document_gets_the_api_policy(self, client: AsyncClient) -> None:
        assert_secured(await client.get("/openapi.json"))


class TestNoStore:
    async def test_the_token_answer_is_not_stored(self, client: AsyncClient, user: Account) -> None:
        form = {"username": user.user.email, "password": "password123"}
        response = await client.post("/auth/token", data=form)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"

    async def test_a_new_api_key_is_not_stored(self, client: AsyncClient, user: Account) -> None:
        response = await client.post(
            "/users/me/api-keys", json={"name": "phone"}, headers=user.headers
        )
        assert response.status_code == 201, response.text
        assert response.headers["cache-control"] == "no-store"

    async def test_the_key_list_without_secrets_is_private_as_before(
        self, client: AsyncClient, user: Account
    ) -> None:
        response = await client.get("/users/me/api-keys", headers=user.headers)
        assert response.headers["cache-control"] == "private, no-store"


@pytest.fixture(scope="module")
async def cors(settings: Settings) -> AsyncIterator[AsyncClient]:
    """An app allowing ALLOWED; these requests touch no dependency, so no lifespan."""
    app = create_app(settings.model_copy(update={"CORS_ORIGINS": f"{ALLOWED}, https://b.example"}))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http


def preflight(origin: str, method: str = "PUT") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, if-match",
    }


class TestCors:
    async def test_an_allowed_origin_may_read_the_answer_and_its_etag(
        self, cors: AsyncClient
    ) -> None:
        response = await cors.get("/health", headers={"Origin": ALLOWED})
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert response.headers["access-control-expose-headers"] == "ETag, Retry-After"
        assert "Origin" in response.headers["vary"]
        assert_secured(response)

    async def test_a_refused_origin_gets_no_cors_headers(self, cors: AsyncClient) -> None:
        response = await cors.get("/health", headers={"Origin": REFUSED})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
        assert "Origin" in response.headers["vary"]

    async def test_a_preflight_from_an_allowed_origin_is_answered(self, cors: AsyncClient) -> None:
        response = await cors.options("/movies/1", headers=preflight(ALLOWED))
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert "PUT" in response.headers["access-control-allow-methods"].split(", ")
        allowed = response.headers["access-control-allow-headers"].split(", ")
        assert {"Authorization", "If-Match", "Content-Type"} <= set(allowed)
        assert_secured(response)

    async def test_a_preflight_from_a_refused_origin_is_refused(self, cors: AsyncClient) -> None:
        response = await cors.options("/movies/1", headers=preflight(REFUSED))
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers

    async def test_the_tmdb_layer_answers_preflights_too(self, cors: AsyncClient) -> None:
        response = await cors.options("/3/movie/550", headers=preflight(ALLOWED, "GET"))
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ALLOWED
        # A path that touches no dependency (this app has no lifespan).
        allowed = await cors.get("/3/no-such-path", headers={"Origin": ALLOWED})
        assert allowed.status_code == 404
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        refused = await cors.get("/3/no-such-path", headers={"Origin": REFUSED})
        assert "access-control-allow-origin" not in refused.headers

    async def test_no_origin_is_allowed_by_default(self, client: AsyncClient) -> None:
        response = await client.get("/health", headers={"Origin": ALLOWED})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
        preflighted = await client.options("/movies/1", headers=preflight(ALLOWED))
        assert "access-control-allow-origin" not in preflighted.headers


class TestDocsSwitch:
    def test_docs_are_on_by_default_outside_production(self) -> None:
        assert Settings(ENVIRONMENT="development").DOCS_ENABLED is True
        assert Settings(ENVIRONMENT="test").DOCS_ENABLED is True

    def test_docs_are_off_by_default_in_production(self) -> None:
        production = Settings(ENVIRONMENT="production", SECRET_KEY="s" * 40)
        assert production.DOCS_ENABLED is False
        assert Settings(
            ENVIRONMENT="production", SECRET_KEY="s" * 40, DOCS_ENABLED=True
        ).DOCS_ENABLED

    @pytest.mark.parametrize(
        "path", ["/docs", "/redoc", "/openapi.json", "/3/docs", "/3/openapi.json"]
    )
    async def test_switched_off_every_docs_path_answers_404(
        self, settings: Settings, path: str
    ) -> None:
        app = create_app(settings.model_copy(update={"DOCS_ENABLED": False}))
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get(path)
        assert response.status_code == 404
        assert_secured(response)

    @pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/3/openapi.json"])
    async def test_switched_on_they_answer(self, client: AsyncClient, path: str) -> None:
        assert (await client.get(path)).status_code == 200


class TestReadyNamesWhatIsDown:
    async def test_redis_down_is_named_without_its_error(
        self, app: Any, client: AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        real = app.state.redis
        app.state.redis = ArqRedis.from_url(
            "redis://127.0.0.1:1/0", socket_timeout=0.5, socket_connect_timeout=0.5
        )
        try:
            with caplog.at_level(logging.WARNING, logger="api.health"):
                response = await client.get("/ready")
        finally:
            await app.state.redis.aclose()
            app.state.redis = real
        assert response.status_code == 503
        body = response.json()
        assert body["detail"] == "Not ready: redis unreachable"
        assert body["checks"] == {"database": "ok", "redis": "down", "meilisearch": "ok"}
        assert "127.0.0.1" not in response.text and "Connect" not in response.text
        logged = [r.getMessage() for r in caplog.records if r.name == "api.health"]
        assert any("redis" in line and "127.0.0.1:1" in line for line in logged), logged


# -- the serving command, run for real


def has_options(args: list[str]) -> bool:
    """UVICORN_OPTIONS, in order, among `args`."""
    size = len(UVICORN_OPTIONS)
    return any(tuple(args[i : i + size]) == UVICORN_OPTIONS for i in range(len(args)))


class TestServingCommands:
    def test_the_procfile_has_the_limits(self) -> None:
        assert has_options(shlex.split(procfile_web()))

    def test_compose_has_the_limits(self) -> None:
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        assert has_options(compose["services"]["api"]["command"])

    def test_the_image_has_the_limits(self) -> None:
        dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", "")
        [cmd] = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]
        assert has_options(json.loads(cmd.removeprefix("CMD ")))


@pytest.fixture(scope="module")
async def served(
    settings: Settings, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, int]]:
    """The Procfile's web command (one process), on a free port."""
    port, log = free_port(), tmp_path_factory.mktemp("serving") / "uvicorn.log"
    async with serving(start_procfile_web(settings, port, log), port, log):
        yield "127.0.0.1", port


def exchange(address: tuple[str, int], request: bytes) -> bytes:
    """Send `request` (as much as the server takes) and read the answer to its end."""
    with socket.create_connection(address, timeout=10) as sock:
        # Refused mid-way, the send fails: the answer was written before the close.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def get(header: bytes = b"") -> bytes:
    return b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n" + header + b"\r\n"


def closed_after(sock: socket.socket, trickle: bool) -> float:
    """Seconds until the server closes `sock`, sending a header line every half second when
    `trickle`; fails if it is still open after three timeouts."""
    start = time.monotonic()
    sock.settimeout(0.5)
    while time.monotonic() - start < 3 * HEAD_TIMEOUT_SECONDS:
        try:
            assert sock.recv(1024) == b""  # closed, with nothing said
            return time.monotonic() - start
        except TimeoutError:
            if trickle:
                sock.sendall(b"X-Slow: 1\r\n")
    raise AssertionError("the connection was never closed")


class TestServingLimits:
    def test_an_ordinary_request_is_served_with_the_security_headers(
        self, served: tuple[str, int]
    ) -> None:
        answer = exchange(served, get(b"X-Padding: " + b"p" * 8000 + b"\r\n"))
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert b"x-content-type-options: nosniff\r\n" in answer
        assert b"strict-transport-security" not in answer

    def test_hsts_when_the_trusted_proxy_says_https(self, served: tuple[str, int]) -> None:
        answer = exchange(served, get(b"X-Forwarded-Proto: https\r\n"))
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert b"strict-transport-security: max-age=31536000\r\n" in answer

    def test_a_1_mib_header_answers_431(self, served: tuple[str, int]) -> None:
        answer = exchange(served, get(b"X-Big: " + b"b" * (1024 * 1024) + b"\r\n"))
        assert answer.startswith(b"HTTP/1.1 431 ")
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert body["code"] == "request_header_fields_too_large"
        assert str(MAX_HEAD_BYTES) in body["detail"]

    def test_a_head_just_over_the_limit_read_at_once_answers_431(
        self, served: tuple[str, int]
    ) -> None:
        answer = exchange(served, get(b"X-Big: " + b"b" * MAX_HEAD_BYTES + b"\r\n"))
        assert answer.startswith(b"HTTP/1.1 431 ")

    def test_an_idle_connection_is_closed_after_the_timeout(self, served: tuple[str, int]) -> None:
        with socket.create_connection(served) as sock:
            assert closed_after(sock, trickle=False) >= HEAD_TIMEOUT_SECONDS - 1

    def test_a_client_trickling_its_headers_is_closed_after_the_timeout(
        self, served: tuple[str, int]
    ) -> None:
        with socket.create_connection(served) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n")
            assert closed_after(sock, trickle=True) >= HEAD_TIMEOUT_SECONDS - 1
