"""Session-wide catalogs for the suite: TMDB 5000 (or the sample where the shared data is
absent) imported into a database of its own with both indexes built by `marquee reindex`'s code,
and the project's sample catalog without an index. Shared by tests/search and tests/tmdb."""

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from api.db import make_engine, make_sessionmaker
from api.outbox import SearchOutbox
from api.settings import Settings
from api.types import utcnow
from importer.tmdb import import_tmdb
from tests.conftest import drop_database, migrate, recreate_database
from tests.meili_fixtures import MeiliServer, drop_indexes
from worker.resources import connect_redis

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "movies"
SAMPLE = ROOT / "data" / "sample"
SAMPLE_FILES = ("movies.csv.gz", "credits.csv.gz", "posters.csv.gz")


def catalog_files() -> list[Path]:
    """The full TMDB 5000 files where they exist (CI has them), else the project's sample."""
    if (SHARED / "tmdb_5000_movies.csv.gz").exists():
        names = ("tmdb_5000_movies.csv.gz", "tmdb_5000_credits.csv.gz", "tmdb_5000_posters.csv.gz")
        return [SHARED / name for name in names]
    return [SAMPLE / name for name in SAMPLE_FILES]


@pytest.fixture(scope="session")
async def tmdb_settings(settings: Settings, meili_server: MeiliServer) -> AsyncIterator[Settings]:
    """A database with the TMDB catalog, and an index built from it by `marquee reindex`'s code."""
    from worker.resources import open_resources
    from worker.sync import rebuild_index

    url = f"{settings.DATABASE_URL}_tmdb"
    tmdb = settings.model_copy(
        update={"DATABASE_URL": url, "MEILI_INDEX": f"tmdb_{uuid.uuid4().hex[:8]}"}
    )
    await imported_database(url, catalog_files())
    res = await open_resources(tmdb, redis=await connect_redis(tmdb))
    await rebuild_index(res)
    yield tmdb
    await drop_indexes(res.meili, tmdb.MEILI_INDEX)
    assert res.redis is not None
    await res.redis.aclose()
    await res.close()
    await drop_database(url)


async def imported_database(url: str, files: Sequence[Path]) -> None:
    """A fresh database at `url`, migrated, holding the catalog in `files`."""
    await recreate_database(url)
    await migrate(url)
    engine = make_engine(url)
    await import_tmdb(make_sessionmaker(engine), *files)
    await _outbox_done(engine)
    await engine.dispose()


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
    await imported_database(url, [SAMPLE / name for name in SAMPLE_FILES])
    yield settings.model_copy(update={"DATABASE_URL": url})
    await drop_database(url)
