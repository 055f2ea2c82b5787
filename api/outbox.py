"""The search outbox: one row per change to a movie's or a person's search document, written by
services in the same transaction as the change and drained by the worker. Plumbing every domain
calls: it imports no domain."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from api.after_commit import invalidate_after_commit, queue_after_commit
from api.cache import CATALOG, movie_scope, person_scope
from api.jobs import Job
from api.types import TABLE_ARGS, UTCDateTime, utcnow


class SearchOutbox(SQLModel, table=True):
    __tablename__ = "search_outbox"
    __table_args__ = (sa.Index("ix_search_outbox_pending", "processed_at", "id"), TABLE_ARGS)

    id: int | None = Field(default=None, primary_key=True)
    # One of the two: a movie's document or a person's.
    movie_id: int | None = Field(default=None, index=False)
    person_id: int | None = Field(default=None, index=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    processed_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )


async def record_changes(
    session: AsyncSession, movie_ids: Sequence[int], person_ids: Sequence[int] = ()
) -> None:
    """Durably note that these movies' and people's documents must be refreshed, then wake the
    worker; their cached answers go once the transaction commits."""
    if not (movie_ids or person_ids):
        return
    await add_entries(session, movie_ids, person_ids)
    queue_after_commit(session, Job.DRAIN_OUTBOX)
    scopes = [*(movie_scope(m) for m in movie_ids), *(person_scope(p) for p in person_ids)]
    invalidate_after_commit(session, [CATALOG, *scopes])


@dataclass(frozen=True)
class Entry:
    id: int
    movie_id: int | None
    person_id: int | None


async def pending_entries(session: AsyncSession, limit: int) -> list[Entry]:
    """The oldest unprocessed outbox entries. A plain read, no row locks: one drain runs at a
    time (a Redis lock), and a lock held here would be held across the Meilisearch call,
    stalling every write that records a change (gap locks)."""
    stmt = (
        select(col(SearchOutbox.id), col(SearchOutbox.movie_id), col(SearchOutbox.person_id))
        .where(col(SearchOutbox.processed_at).is_(None))
        .order_by(col(SearchOutbox.id))
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [
        Entry(entry_id, movie_id, person_id) for entry_id, movie_id, person_id in rows if entry_id
    ]


async def mark_processed(session: AsyncSession, entry_ids: Sequence[int]) -> None:
    stmt = (
        update(SearchOutbox)
        .where(col(SearchOutbox.id).in_(entry_ids))
        .values(processed_at=utcnow())
    )
    await session.execute(stmt)


async def requeue_changed_since(session: AsyncSession, since: datetime) -> int:
    """Record again every movie and person with an outbox entry at or after `since`, so the
    drain brings them into the indexes that a rebuild just swapped in; returns how many."""
    movie_ids = await _changed_since(session, col(SearchOutbox.movie_id), since)
    person_ids = await _changed_since(session, col(SearchOutbox.person_id), since)
    await add_entries(session, movie_ids, person_ids)
    return len(movie_ids) + len(person_ids)


async def _changed_since(session: AsyncSession, column: Any, since: datetime) -> list[int]:
    recent = col(SearchOutbox.created_at) >= since
    stmt = select(column).where(recent, column.is_not(None)).distinct()
    return list((await session.execute(stmt)).scalars())


async def add_entries(
    session: AsyncSession, movie_ids: Sequence[int], person_ids: Sequence[int] = ()
) -> None:
    """One pending outbox entry per movie and per person, in the session's transaction."""
    now = utcnow()
    rows = [{"movie_id": m, "person_id": None, "created_at": now} for m in movie_ids]
    rows += [{"movie_id": None, "person_id": p, "created_at": now} for p in person_ids]
    if rows:
        await session.execute(insert(SearchOutbox), rows)


async def purge_processed(session: AsyncSession, before: datetime) -> int:
    stmt = delete(SearchOutbox).where(col(SearchOutbox.processed_at) < before)
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def pending_count(session: AsyncSession) -> int:
    stmt = (
        select(func.count())
        .select_from(SearchOutbox)
        .where(col(SearchOutbox.processed_at).is_(None))
    )
    return (await session.execute(stmt)).scalar_one()
