"""Search fixtures: a per-test index the app searches, worker resources on the test's
transaction, and a session-wide TMDB catalog (database + index) for relevance and parity."""

import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from meilisearch_python_sdk import AsyncClient as MeiliClient
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db import make_sessionmaker
from api.main import create_app
from api.settings import Settings
from indexer import ensure_settings, make_client
from indexer.settings import PEOPLE_SETTINGS
from tests.meili_fixtures import MeiliServer, drop_indexes
from worker.resources import Resources, connect_redis


@pytest.fixture
async def search_index(app, meili_server: MeiliServer) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """A fresh index with the code's settings that the app searches during this test."""
    uid = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_client(meili_server.url, meili_server.master_key, 30.0)
    await ensure_settings(admin, uid)
    await ensure_settings(admin, f"{uid}_people", PEOPLE_SETTINGS)
    real = app.state.settings
    app.state.settings = real.model_copy(update={"MEILI_INDEX": uid})
    yield uid
    app.state.settings = real
    await drop_indexes(admin, uid)
    await admin.aclose()


@pytest.fixture
async def resources(
    settings: Settings, connection: AsyncConnection, search_index: str, meili_server: MeiliServer
) -> AsyncIterator[Resources]:
    """What the worker's jobs use, but on the test's connection and index."""
    redis = await connect_redis(settings)
    meili = make_client(meili_server.url, meili_server.master_key, 30.0)
    res = Resources(
        settings=settings.model_copy(update={"MEILI_INDEX": search_index}),
        engine=connection.engine,
        sessionmaker=make_sessionmaker(connection, join_transaction_mode="create_savepoint"),
        meili=meili,
        redis=redis,
    )
    yield res
    await meili.aclose()
    await redis.aclose()


@pytest.fixture(scope="session")
async def tmdb_client(tmdb_settings: Settings) -> AsyncIterator[AsyncClient]:
    """An HTTP client on an app whose database and index hold the TMDB catalog (read-only)."""
    app = create_app(tmdb_settings)
    transport = ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        yield http


async def index_count(client: MeiliClient, uid: str) -> int:
    stats = await client.index(uid).get_stats()
    return stats.number_of_documents
