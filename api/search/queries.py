"""Reads for keeping the index in sync: movies as index sources, the outbox, id ranges."""

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.movies.models import Movie
from api.movies.queries import get_movies, with_everything
from api.search.models import SearchOutbox
from api.types import utcnow
from indexer import MovieSource


def movie_source(movie: Movie) -> MovieSource:
    assert movie.id is not None
    return MovieSource(
        id=movie.id,
        title=movie.title,
        original_title=movie.original_title,
        overview=movie.overview,
        tagline=movie.tagline,
        release_date=movie.release_date,
        original_language=movie.original_language,
        runtime=movie.runtime,
        status=movie.status,
        poster_path=movie.poster_path,
        backdrop_path=movie.backdrop_path,
        popularity=movie.popularity,
        vote_average=round(movie.vote_average, 3),
        vote_count=movie.vote_count,
        genres=[(g.id, g.name) for g in movie.genres],  # type: ignore[misc]
        cast=[(c.person_id, c.person.name, c.character) for c in movie.cast_credits],
        directors=[(d.person_id, d.person.name) for d in movie.director_links],
        created_at=movie.created_at,
        updated_at=movie.updated_at,
    )


async def movie_sources(session: AsyncSession, movie_ids: Sequence[int]) -> list[MovieSource]:
    return [movie_source(m) for m in await get_movies(session, movie_ids)]


async def iter_source_batches(
    sessionmaker: async_sessionmaker[AsyncSession], batch_size: int
) -> AsyncIterator[list[MovieSource]]:
    """Every movie, in id order, a batch at a time (keyset paging: memory stays flat)."""
    last_id = 0
    while True:
        async with sessionmaker() as session:
            stmt = (
                select(Movie)
                .where(col(Movie.id) > last_id)
                .order_by(col(Movie.id))
                .limit(batch_size)
                .options(*with_everything())
            )
            movies = list((await session.execute(stmt)).scalars())
            batch = [movie_source(m) for m in movies]
        if not batch:
            return
        last_id = batch[-1].id
        yield batch


async def count_movies(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(Movie))).scalar_one()


async def claim_pending(session: AsyncSession, limit: int) -> list[SearchOutbox]:
    """The oldest unprocessed outbox entries, locked so concurrent drains skip them."""
    stmt = (
        select(SearchOutbox)
        .where(col(SearchOutbox.processed_at).is_(None))
        .order_by(col(SearchOutbox.id))
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.execute(stmt)).scalars())


async def mark_processed(session: AsyncSession, entry_ids: Sequence[int]) -> None:
    stmt = (
        update(SearchOutbox)
        .where(col(SearchOutbox.id).in_(entry_ids))
        .values(processed_at=utcnow())
    )
    await session.execute(stmt)


async def changed_since(session: AsyncSession, since: datetime) -> list[int]:
    """Movies with an outbox entry recorded at or after `since` (replayed after a reindex)."""
    stmt = (
        select(col(SearchOutbox.movie_id)).where(col(SearchOutbox.created_at) >= since).distinct()
    )
    return list((await session.execute(stmt)).scalars())


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
