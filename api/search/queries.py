"""Reads for keeping the index in sync: movies as index sources, the outbox, id ranges."""

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.movies.models import CastCredit, Movie
from api.movies.queries import CAST_ORDER, PUBLIC_COLUMNS, directors_of, genres_of
from api.people.models import Person
from api.search.models import SearchOutbox
from api.types import utcnow
from indexer import MovieSource


async def movie_sources(session: AsyncSession, movie_ids: Sequence[int]) -> list[MovieSource]:
    """The index's view of these movies (missing ids are skipped), read as plain rows: four
    queries for the whole batch and no ORM objects, since a batch carries ~20 credits a movie."""
    if not movie_ids:
        return []
    ids = list(movie_ids)
    rows = (await session.execute(select(*PUBLIC_COLUMNS).where(col(Movie.id).in_(ids)))).all()
    genres = await _grouped(session, genres_of(ids))
    cast = await _grouped(session, _cast_of(ids))
    directors = await _grouped(session, directors_of(ids))
    return [_source(row, genres, cast, directors) for row in rows]


def _cast_of(ids: list[int]) -> Any:
    credit = CastCredit
    return (
        select(col(credit.movie_id), col(Person.id), col(Person.name), col(credit.character))
        .join(Person, col(Person.id) == col(credit.person_id))
        .where(col(credit.movie_id).in_(ids))
        .order_by(col(credit.movie_id), *CAST_ORDER)
    )


async def _grouped(session: AsyncSession, stmt: Any) -> dict[int, list[tuple[Any, ...]]]:
    """Rows keyed by their first column (the movie id), the rest kept in query order."""
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for movie_id, *rest in (await session.execute(stmt)).all():
        grouped[movie_id].append(tuple(rest))
    return grouped


def _source(
    row: Any,
    genres: dict[int, list[Any]],
    cast: dict[int, list[Any]],
    directors: dict[int, list[Any]],
) -> MovieSource:
    fields = row._asdict()
    return MovieSource(
        **{**fields, "vote_average": round(fields["vote_average"], 3)},
        genres=genres.get(row.id, []),
        cast=cast.get(row.id, []),
        directors=directors.get(row.id, []),
    )


async def iter_source_batches(
    sessionmaker: async_sessionmaker[AsyncSession], batch_size: int
) -> AsyncIterator[list[MovieSource]]:
    """Every movie, in id order, a batch at a time (keyset paging: memory stays flat)."""
    last_id = 0
    while True:
        async with sessionmaker() as session:
            page = select(col(Movie.id)).where(col(Movie.id) > last_id).order_by(col(Movie.id))
            ids = [i for i in (await session.execute(page.limit(batch_size))).scalars() if i]
            if not ids:
                return
            batch = await movie_sources(session, ids)
        last_id = ids[-1]
        yield sorted(batch, key=lambda source: source.id)


async def count_movies(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(Movie))).scalar_one()


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
