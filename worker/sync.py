"""Keeping the index in step with the database: draining the outbox and rebuilding the index."""

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from api import outbox
from api.cache import CATALOG, PEOPLE, SEARCH, movie_scope, person_scope
from api.people import queries as people
from api.search import queries
from api.types import utcnow
from indexer import apply, drop_stale_builds, ensure_settings, rebuild, to_document
from indexer.people import person_document
from indexer.settings import PEOPLE_SETTINGS
from worker.locks import HeldLock, redis_lock
from worker.resources import Resources

log = logging.getLogger(__name__)

DRAIN_BATCH = 500
# Seconds: a holder that dies frees its lock within this (renewed while held).
DRAIN_LOCK_TTL = 5.0
REINDEX_LOCK_TTL = 10.0
REBUILD_BATCH = 1000
PEOPLE_REBUILD_BATCH = 2000
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


async def sync_people(res: Resources, person_ids: list[int], index: str | None = None) -> None:
    """Make the people index hold these people as they are now: their derived fields refreshed
    from their movies (one short transaction), then upserted, or deleted when gone or without
    a credit left."""
    async with res.sessionmaker() as session:
        await people.refresh_people(session, person_ids)
        await session.commit()
        sources = await people.person_sources(session, person_ids)
    found = {s.id for s in sources}
    documents = [person_document(s) for s in sources]
    gone = sorted(set(person_ids) - found)
    await apply(res.meili, index or res.people_index, documents, gone)
    await res.cache.bump([SEARCH, PEOPLE, *(person_scope(pid) for pid in person_ids)])


async def drain_once(res: Resources, lock: HeldLock, limit: int = DRAIN_BATCH) -> int:
    """Index one batch of pending outbox entries; mark them done only after Meilisearch did.
    Each database step is its own short transaction: none is open across a call to
    Meilisearch or Redis, so a hung engine delays search, never the writes that record changes."""
    async with res.sessionmaker() as session:
        entries = await outbox.pending_entries(session, limit)
    if not entries:
        return 0
    # A holder that stalled past the lock's TTL may have been overtaken by another drain
    # that wrote newer documents: it must not write its older ones over them.
    await lock.check()
    movie_ids = sorted({e.movie_id for e in entries if e.movie_id is not None})
    person_ids = sorted({e.person_id for e in entries if e.person_id is not None})
    if movie_ids:
        await sync_movies(res, movie_ids)
    if person_ids:
        await sync_people(res, person_ids)
    async with res.sessionmaker() as session:
        await outbox.mark_processed(session, [e.id for e in entries])
        await session.commit()
    return len(entries)


async def drain(res: Resources) -> int:
    """Drain until the outbox is empty; one drain at a time per index (Meilisearch applies
    tasks in order, so two drains could otherwise write an older state after a newer one)."""
    assert res.redis is not None
    total = 0
    async with redis_lock(res.redis, f"drain:{res.index}", DRAIN_LOCK_TTL) as lock:
        while (done := await drain_once(res, lock)) > 0:
            total += done
    return total


async def _documents(res: Resources) -> AsyncIterator[list[dict[str, Any]]]:
    async for batch in queries.iter_source_batches(res.sessionmaker, REBUILD_BATCH):
        yield [to_document(s) for s in batch]


async def _person_documents(res: Resources) -> AsyncIterator[list[dict[str, Any]]]:
    async for batch in people.iter_person_batches(res.sessionmaker, PEOPLE_REBUILD_BATCH):
        yield [person_document(s) for s in batch]


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did: the movies and people it indexed, and the movies and people changed
    while it ran, recorded again in the outbox for the drain to bring into the new indexes."""

    indexed: int
    replayed: int
    people: int = 0


async def rebuild_index(
    res: Resources, on_progress: Callable[[int], None] | None = None
) -> Rebuilt:
    """Rebuild into a fresh index and swap it in. Changes made meanwhile may have been drained
    into the old index (or be drained by a worker that is busy right now): they are recorded
    again in the outbox, so whoever drains next brings them into the new one. No lock but the
    rebuild's own is needed, and none can make the replay fail."""
    assert res.redis is not None
    async with redis_lock(res.redis, f"reindex:{res.index}", REINDEX_LOCK_TTL):
        started = utcnow() - REPLAY_MARGIN
        await drop_stale_builds(res.meili, res.index)
        count = await rebuild(res.meili, res.index, _documents(res), on_progress)
        await drop_stale_builds(res.meili, res.people_index)
        people_count = await rebuild(
            res.meili, res.people_index, _person_documents(res), settings=PEOPLE_SETTINGS
        )
        async with res.sessionmaker() as session:
            replayed = await outbox.requeue_changed_since(session, started)
            await session.commit()
        await res.cache.bump([SEARCH])
    log.info(
        "reindexed %d movies and %d people; %d changed meanwhile, queued again",
        *(count, people_count, replayed),
    )
    return Rebuilt(count, replayed, people_count)


async def prepare_index(res: Resources) -> None:
    """At start-up: the live indexes exist with the code's settings."""
    if await ensure_settings(res.meili, res.index):
        log.warning("index %s settings drifted from the code's; fixed", res.index)
    if await ensure_settings(res.meili, res.people_index, PEOPLE_SETTINGS):
        log.warning("index %s settings drifted from the code's; fixed", res.people_index)
