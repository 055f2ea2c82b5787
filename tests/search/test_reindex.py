"""`marquee reindex`: a complete rebuild swapped in while search keeps answering, with the
writes made during the rebuild kept, one rebuild at a time."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from api.movies.models import Movie
from api.outbox import record_changes
from api.search import queries as search_queries
from indexer import search_movies
from tests.search.conftest import index_count
from worker import sync
from worker.locks import LockBusy, redis_lock
from worker.resources import Resources

MOVIES = 25


@pytest.fixture
async def catalog(db: AsyncSession, resources: Resources) -> list[int]:
    """MOVIES movies in the database, drained into the live index."""
    titles = [f"Larkspur Reel {n}" for n in range(MOVIES)]
    movies = [Movie.model_validate({"title": t, "original_title": t}) for t in titles]
    db.add_all(movies)
    await db.flush()
    await record_changes(db, [m.id for m in movies if m.id is not None])
    await db.commit()
    await sync.drain(resources)
    return [m.id for m in movies if m.id is not None]


async def total(resources: Resources, q: str = "") -> int:
    page = await search_movies(resources.meili, resources.index, q, None, None, 1, 1)
    return page.total


class TestRebuild:
    async def test_search_stays_complete_while_rebuilding(
        self, catalog: list[int], resources: Resources, monkeypatch: Any
    ) -> None:
        monkeypatch.setattr(
            sync, "REBUILD_BATCH", 5
        )  # several batches, so the rebuild takes a while
        seen: list[int] = []
        rebuild = asyncio.create_task(sync.rebuild_index(resources))
        while not rebuild.done():
            seen.append(await total(resources))
        assert (await rebuild).indexed == MOVIES
        assert len(seen) > 1 and set(seen) == {MOVIES}, (
            "every search during the rebuild saw the whole catalog"
        )
        assert await index_count(resources.meili, resources.index) == MOVIES

    async def test_writes_during_the_rebuild_survive_the_swap(
        self, catalog: list[int], resources: Resources, db: AsyncSession, monkeypatch: Any
    ) -> None:
        monkeypatch.setattr(sync, "REBUILD_BATCH", 5)
        original = search_queries.iter_source_batches

        async def batches_with_a_write(*args: Any) -> AsyncIterator[Any]:
            first = True
            async for batch in original(*args):
                yield batch
                if first:  # rename a movie the rebuild has already copied
                    first = False
                    stmt = (
                        update(Movie).where(Movie.id == catalog[0]).values(title="Thistledown Epic")
                    )  # type: ignore[arg-type]
                    await db.execute(stmt)
                    await record_changes(db, [catalog[0]])
                    await db.commit()

        monkeypatch.setattr(search_queries, "iter_source_batches", batches_with_a_write)
        rebuilt = await sync.rebuild_index(resources)
        assert rebuilt.replayed >= 1
        await sync.drain(resources)
        assert await total(resources, "Thistledown") == 1
        assert await total(resources) == MOVIES

    async def test_a_write_drained_into_the_old_index_survives_a_busy_drain_lock(
        self, catalog: list[int], resources: Resources, db: AsyncSession, monkeypatch: Any
    ) -> None:
        """The worker drains a change into the index being replaced, and is still draining
        (holding the drain lock) when the swap happens: the change must reach the new index."""
        monkeypatch.setattr(sync, "REBUILD_BATCH", 5)
        original = search_queries.iter_source_batches
        worker_lock: list[Any] = []

        async def batches_with_a_drained_write(*args: Any) -> AsyncIterator[Any]:
            first = True
            async for batch in original(*args):
                yield batch
                if first:
                    first = False
                    stmt = update(Movie).where(Movie.id == catalog[0]).values(title="Marrowgate")  # type: ignore[arg-type]
                    await db.execute(stmt)
                    await record_changes(db, [catalog[0]])
                    await db.commit()
                    await sync.drain(resources)  # the worker indexes it into the old index...
                    assert resources.redis is not None
                    lock = redis_lock(resources.redis, f"drain:{resources.index}")
                    await lock.__aenter__()  # ...and is draining again when the swap comes
                    worker_lock.append(lock)

        monkeypatch.setattr(search_queries, "iter_source_batches", batches_with_a_drained_write)
        try:
            rebuilt = await sync.rebuild_index(resources)
        finally:
            for lock in worker_lock:
                await lock.__aexit__(None, None, None)
        assert rebuilt.indexed == MOVIES and rebuilt.replayed >= 1
        await sync.drain(resources)  # the worker's next drain
        assert await total(resources, "Marrowgate") == 1

    async def test_a_second_rebuild_is_refused_while_one_runs(self, resources: Resources) -> None:
        assert resources.redis is not None
        async with redis_lock(resources.redis, f"reindex:{resources.index}"):
            with pytest.raises(LockBusy):
                await sync.rebuild_index(resources)

    async def test_an_interrupted_rebuild_leaves_the_live_index_alone(
        self, catalog: list[int], resources: Resources, monkeypatch: Any
    ) -> None:
        async def failing(*_: Any) -> AsyncIterator[Any]:
            yield [{"id": 1, "title": "half a rebuild"}]
            raise RuntimeError("operator pressed Ctrl-C")

        monkeypatch.setattr(sync, "_documents", failing)
        with pytest.raises(RuntimeError):
            await sync.rebuild_index(resources)
        assert await total(resources) == MOVIES
        assert await total(resources, "half a rebuild") == 0
        monkeypatch.undo()
        assert (await sync.rebuild_index(resources)).indexed == MOVIES, "it can be run again"
