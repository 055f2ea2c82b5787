"""Search fixtures: a per-test index the app searches, worker resources on the test's
transaction, and a session-wide TMDB catalog (database + index) for relevance and parity."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from meilisearch_python_sdk import AsyncClient as MeiliClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db import make_engine, make_sessionmaker
from api.main import create_app
from api.outbox import SearchOutbox
from api.settings import Settings
from api.types import utcnow
from importer.tmdb import import_tmdb
from indexer import ensure_settings, make_client
from indexer.settings import PEOPLE_SETTINGS
from tests.conftest import drop_database, migrate, recreate_database
from tests.meili_fixtures import MeiliServer, drop_indexes
from worker.resources import Resources, connect_redis

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "movies"
SAMPLE = ROOT / "data" / "sample"
SAMPLE_FILES = ("movies.csv.gz", "credits.csv.gz", "posters.csv.gz")


def catalog_files() -> list[Path]:
    """The full TMDB 5000 files where they exist (CI has them), else the project's sample."""
    if (SHARED / "tmdb_5000_movies.csv.gz").exists():
        names = ("tmdb_5000_movies.csv.gz", "tmdb_5000_credits.csv.gz", "tmdb_5000_posters.csv.gz")
        return [SHARED / name for name in names]
    return [SAMPLE / name for name in SAMPLE_FILES]


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
async def tmdb_settings(settings: Settings, meili_server: MeiliServer) -> AsyncIterator[Settings]:
    """A database with the TMDB catalog, and an index built from it by `marquee reindex`'s code."""
    from worker.resources import open_resources
    from worker.sync import rebuild_index

    url = f"{settings.DATABASE_URL}_tmdb"
    tmdb = settings.model_copy(
        update={"DATABASE_URL": url, "MEILI_INDEX": f"tmdb_{uuid.uuid4().hex[:8]}"}
    )
    await recreate_database(url)
    await migrate(url)
    engine = make_engine(url)
    await import_tmdb(make_sessionmaker(engine), *catalog_files())
    await _outbox_done(engine)
    await engine.dispose()
    res = await open_resources(tmdb, redis=await connect_redis(tmdb))
    await rebuild_index(res)
    yield tmdb
    await drop_indexes(res.meili, tmdb.MEILI_INDEX)
    assert res.redis is not None
    await res.redis.aclose()
    await res.close()
    await drop_database(url)


async def _outbox_done(engine: Any) -> None:
    """Mark an import's outbox drained, and older than a rebuild's replay margin: a rebuild
    reads everything it names, so nothing is left to replay after the swap (the worker would
    catch up on it; no test here runs one on these databases)."""
    async with engine.begin() as conn:
        done = {"processed_at": utcnow(), "created_at": utcnow() - timedelta(days=1)}
        await conn.execute(update(SearchOutbox).values(done))


@pytest.fixture(scope="session")
async def sample_settings(settings: Settings) -> AsyncIterator[Settings]:
    """A database holding the project's sample catalog (no index): for the operator commands,
    whose every run rebuilds both indexes (on TMDB 5000, ~105k people, that is a minute)."""
    url = f"{settings.DATABASE_URL}_sample"
    await recreate_database(url)
    await migrate(url)
    engine = make_engine(url)
    await import_tmdb(make_sessionmaker(engine), *(SAMPLE / name for name in SAMPLE_FILES))
    await _outbox_done(engine)
    await engine.dispose()
    yield settings.model_copy(update={"DATABASE_URL": url})
    await drop_database(url)


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
