"""Reads for keeping the index in sync: movies as index sources, id ranges."""

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.movies.models import CastCredit, CrewCredit, Movie
from api.movies.queries import (
    CAST_ORDER,
    PUBLIC_COLUMNS,
    companies_of,
    countries_of,
    directors_of,
    genres_of,
    keywords_of,
    languages_of,
)
from api.people.models import Person
from indexer import MovieSource


async def movie_sources(session: AsyncSession, movie_ids: Sequence[int]) -> list[MovieSource]:
    """The index's view of these movies (missing ids are skipped), read as plain rows: a query
    per part for the whole batch and no ORM objects, since a movie carries ~50 credits."""
    if not movie_ids:
        return []
    ids = list(movie_ids)
    rows = (await session.execute(select(*PUBLIC_COLUMNS).where(col(Movie.id).in_(ids)))).all()
    parts = {name: await _grouped(session, read(ids)) for name, read in _PARTS.items()}
    return [
        MovieSource(
            {**row._asdict(), "vote_average": round(row.vote_average, 3)},
            **{name: grouped.get(row.id, []) for name, grouped in parts.items()},
        )
        for row in rows
    ]


def _cast_of(ids: list[int]) -> Any:
    credit = CastCredit
    return (
        select(col(credit.movie_id), col(Person.id), col(Person.name), col(credit.character))
        .join(Person, col(Person.id) == col(credit.person_id))
        .where(col(credit.movie_id).in_(ids))
        .order_by(col(credit.movie_id), *CAST_ORDER)
    )


def _crew_of(ids: list[int]) -> Any:
    credit = CrewCredit
    return (
        select(col(credit.movie_id), col(Person.id), col(Person.name), col(credit.job))
        .join(Person, col(Person.id) == col(credit.person_id))
        .where(col(credit.movie_id).in_(ids))
        .order_by(col(credit.movie_id), col(credit.position), col(credit.id))
    )


# A MovieSource's parts: its field and the query reading it for a batch (movie id first).
_PARTS = {
    "genres": genres_of,
    "cast": _cast_of,
    "directors": directors_of,
    "crew": _crew_of,
    "keywords": keywords_of,
    "companies": companies_of,
    "countries": countries_of,
    "languages": languages_of,
}


async def _grouped(session: AsyncSession, stmt: Any) -> dict[int, list[tuple[Any, ...]]]:
    """Rows keyed by their first column (the movie id), the rest kept in query order."""
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for movie_id, *rest in (await session.execute(stmt)).all():
        grouped[movie_id].append(tuple(rest))
    return grouped


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
