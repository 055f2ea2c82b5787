"""The search outbox: one row per change to a movie's search document, written by services in
the same transaction as the change and drained by the worker. Plumbing every domain calls: it
imports no domain."""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from api.after_commit import invalidate_after_commit, queue_after_commit
from api.cache import CATALOG, movie_scope
from api.jobs import Job
from api.types import TABLE_ARGS, UTCDateTime, utcnow


class SearchOutbox(SQLModel, table=True):
    __tablename__ = "search_outbox"
    __table_args__ = (sa.Index("ix_search_outbox_pending", "processed_at", "id"), TABLE_ARGS)

    id: int | None = Field(default=None, primary_key=True)
    movie_id: int = Field(index=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    processed_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )


async def record_changes(session: AsyncSession, movie_ids: list[int]) -> None:
    """Durably note that these movies' documents must be refreshed, then wake the worker."""
    if not movie_ids:
        return
    await add_entries(session, movie_ids)
    queue_after_commit(session, Job.DRAIN_OUTBOX)
    invalidate_after_commit(session, [CATALOG, *(movie_scope(movie_id) for movie_id in movie_ids)])


async def pending_entries(session: AsyncSession, limit: int) -> list[tuple[int, int]]:
    """The oldest unprocessed outbox entries as (entry id, movie id). A plain read, no row
    locks: one drain runs at a time (a Redis lock), and a lock held here would be held across
    the Meilisearch call, stalling every write that records a change (gap locks)."""
    stmt = (
        select(col(SearchOutbox.id), col(SearchOutbox.movie_id))
        .where(col(SearchOutbox.processed_at).is_(None))
        .order_by(col(SearchOutbox.id))
        .limit(limit)
    )
    return [(row.id, row.movie_id) for row in (await session.execute(stmt)).all()]


async def mark_processed(session: AsyncSession, entry_ids: Sequence[int]) -> None:
    stmt = (
        update(SearchOutbox)
        .where(col(SearchOutbox.id).in_(entry_ids))
        .values(processed_at=utcnow())
    )
    await session.execute(stmt)


async def requeue_changed_since(session: AsyncSession, since: datetime) -> int:
    """Record again every movie with an outbox entry at or after `since`, so the drain brings
    them into the index that a rebuild just swapped in; returns how many movies."""
    stmt = (
        select(col(SearchOutbox.movie_id)).where(col(SearchOutbox.created_at) >= since).distinct()
    )
    movie_ids = list((await session.execute(stmt)).scalars())
    await add_entries(session, movie_ids)
    return len(movie_ids)


async def add_entries(session: AsyncSession, movie_ids: Sequence[int]) -> None:
    """One pending outbox entry per movie, in the session's transaction."""
    if movie_ids:
        now = utcnow()
        rows = [{"movie_id": movie_id, "created_at": now} for movie_id in movie_ids]
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
