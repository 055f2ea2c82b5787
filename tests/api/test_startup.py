"""Start-up waits for neither the database nor Meilisearch: the API serves, then catches up."""

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db import make_sessionmaker
from api.main import create_app
from api.settings import Settings
from devstack.servers import free_port, start_meilisearch
from indexer import default_search_key, ensure_settings, make_client
from tests.api.test_accounts import remove_user, user_by_email

CLOSED_DATABASE = "mysql+asyncmy://root:@127.0.0.1:1/nowhere"
PASSWORD = "bootstrap password"
# A guard against hanging, not a timing: the conditions below hold within a few seconds.
DEADLINE = 20.0


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield app, http


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Poll condition until it holds; fail past the deadline."""
    async with asyncio.timeout(DEADLINE):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.05)


def search_key_of(app: FastAPI) -> str:
    header = app.state.meili.http_client.headers.get("Authorization", "")
    return str(header).removeprefix("Bearer ")


class TestDatabaseDownAtStartUp:
    async def test_api_with_an_admin_to_bootstrap_starts_and_serves(
        self, settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        email = f"boot-{uuid.uuid4().hex[:10]}@example.com"
        down = {"DATABASE_URL": CLOSED_DATABASE, "ADMIN_EMAIL": email, "ADMIN_PASSWORD": PASSWORD}
        with caplog.at_level(logging.WARNING, logger="api.main"):
            async with running(settings.model_copy(update=down)) as (app, http):
                health = await http.get("/health")
                ready = await http.get("/ready")
                retrying = app.state.admin_bootstrap
                assert retrying is not None and not retrying.done()
        assert health.status_code == 200
        assert ready.status_code == 503 and ready.json()["checks"]["database"] == "down"
        assert retrying.cancelled(), "shutdown stops the retries"
        failures = [r for r in caplog.records if "admin bootstrap failed" in r.getMessage()]
        assert failures and all(r.levelno == logging.WARNING for r in failures)

    async def test_admin_is_bootstrapped_once_the_database_answers(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        email = f"boot-{uuid.uuid4().hex[:10]}@example.com"
        down = {"DATABASE_URL": CLOSED_DATABASE, "ADMIN_EMAIL": email, "ADMIN_PASSWORD": PASSWORD}
        try:
            async with running(settings.model_copy(update=down)) as (app, _):
                retrying = app.state.admin_bootstrap
                # The retries use the app's sessions: from now on they reach a database.
                app.state.sessionmaker = make_sessionmaker(engine)
                async with asyncio.timeout(DEADLINE):
                    await asyncio.wait([retrying])
                assert retrying.exception() is None
            created = await user_by_email(engine, email)
            assert created is not None and created.is_admin
        finally:
            await remove_user(engine, email)


class TestMeilisearchDownAtStartUp:
    async def test_search_answers_503_then_searches_with_a_search_key_once_it_is_up(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        port, master = free_port(), secrets.token_hex(16)
        url = f"http://127.0.0.1:{port}"
        late = settings.model_copy(
            update={"MEILI_URL": url, "MEILI_MASTER_KEY": master, "MEILI_API_KEY": ""}
        )
        async with running(late) as (app, http):
            assert app.state.meili is None, "no master key to fall back on"
            searched = await http.get("/movies/search", params={"q": "night"})
            assert searched.status_code == 503
            assert searched.json()["code"] == "search_unavailable"
            assert (await http.get("/ready")).json()["checks"]["meilisearch"] == "down"

            meili = await asyncio.to_thread(start_meilisearch, tmp_path, port, master_key=master)
            admin = make_client(url, master, 10.0)
            try:
                await ensure_settings(admin, late.MEILI_INDEX)

                async def searches() -> bool:
                    response = await http.get("/movies/search", params={"q": "night"})
                    return response.status_code == 200

                await until(searches)
                key = search_key_of(app)
                assert key != master
                assert key == await default_search_key(admin)
            finally:
                await admin.aclose()
                await asyncio.to_thread(meili.stop)

    async def test_a_configured_search_key_is_used_as_is(self, settings: Settings) -> None:
        closed = f"http://127.0.0.1:{free_port()}"
        configured = {"MEILI_URL": closed, "MEILI_API_KEY": "configured-search-key"}
        async with running(settings.model_copy(update=configured)) as (app, _):
            assert search_key_of(app) == "configured-search-key"
