"""Keeping the index in step with the database: draining the outbox and rebuilding the index."""

import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from api.cache import CATALOG, SEARCH, movie_scope
from api.search import queries
from api.types import utcnow
from indexer import apply, drop_stale_builds, ensure_settings, rebuild, to_document
from worker.locks import redis_lock
from worker.resources import Resources

log = logging.getLogger(__name__)

DRAIN_BATCH = 500
REBUILD_BATCH = 1000
# Changes recorded this long before a rebuild started are replayed after its swap too, so a
# transaction that committed late (after its rows were read) is never lost to the swap.
REPLAY_MARGIN = timedelta(minutes=1)


async def sync_movies(res: Resources, movie_ids: list[int], index: str | None = None) -> None:
    """Make the index hold the current state of these movies: upsert or delete each."""
    async with res.sessionmaker() as session:
        sources = await queries.movie_sources(session, movie_ids)
    found = {s.id for s in sources}
    gone = sorted(set(movie_ids) - found)
    await apply(res.meili, index or res.index, [to_document(s) for s in sources], gone)
    # Cached searches may hold the old documents; lists are bumped again in case the API's
    # own after-commit bump was lost to a Redis blip.
    await res.cache.bump([SEARCH, CATALOG, *(movie_scope(movie_id) for movie_id in movie_ids)])


async def drain_once(res: Resources, limit: int = DRAIN_BATCH) -> int:
    """Index one batch of pending outbox entries; mark them done only after Meilisearch did."""
    async with res.sessionmaker() as session:
        entries = await queries.claim_pending(session, limit)
        if not entries:
            return 0
        movie_ids = sorted({e.movie_id for e in entries})
        await sync_movies(res, movie_ids)
        await queries.mark_processed(session, [e.id for e in entries if e.id is not None])
        await session.commit()
    return len(entries)


async def drain(res: Resources) -> int:
    """Drain until the outbox is empty; one drain at a time (Meilisearch applies tasks in
    order, so two drains could otherwise write an older state after a newer one)."""
    assert res.redis is not None
    total = 0
    async with redis_lock(res.redis, "drain"):
        while (done := await drain_once(res)) > 0:
            total += done
    return total


async def _documents(res: Resources) -> AsyncIterator[list[dict[str, Any]]]:
    async for batch in queries.iter_source_batches(res.sessionmaker, REBUILD_BATCH):
        yield [to_document(s) for s in batch]


async def rebuild_index(res: Resources, on_progress: Callable[[int], None] | None = None) -> int:
    """Rebuild into a fresh index, swap it in, then replay what changed meanwhile."""
    assert res.redis is not None
    async with redis_lock(res.redis, "reindex", ttl_ms=60_000):
        started = utcnow() - REPLAY_MARGIN
        await drop_stale_builds(res.meili, res.index)
        count = await rebuild(res.meili, res.index, _documents(res), on_progress)
        await res.cache.bump([SEARCH])
        async with res.sessionmaker() as session:
            changed = await queries.changed_since(session, started)
        async with redis_lock(res.redis, "drain"):
            for start in range(0, len(changed), DRAIN_BATCH):
                await sync_movies(res, changed[start : start + DRAIN_BATCH])
    log.info("reindexed %d movies, replayed %d changes", count, len(changed))
    return count


async def prepare_index(res: Resources) -> None:
    """At start-up: the live index exists with the code's settings; stale builds are gone."""
    if await ensure_settings(res.meili, res.index):
        log.warning("index %s settings drifted from the code's; fixed", res.index)
