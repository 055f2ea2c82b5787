"""The /3 movie routes' own reads, beside the native ones they reuse: the credited people's
TMDB fields, a movie's reviews as plain dicts, the newest movie, whether a genre exists."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.movies.models import Genre, Movie
from api.pagination import PageParams
from api.people.models import Person
from api.people.queries import PUBLIC_FIELDS
from api.reviews.queries import page_movie_reviews

_PERSON = [col(getattr(Person, name)) for name in PUBLIC_FIELDS]


async def credited_people(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, Any]:
    """id -> the person's public fields (gender, department, popularity, profile): the native
    credits carry only name, role and (for cast) profile."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = await session.execute(select(*_PERSON).where(col(Person.id).in_(ids)))
    return {row.id: row._asdict() for row in rows}


async def review_page(
    session: AsyncSession, movie_id: int, params: PageParams
) -> tuple[int, list[dict[str, Any]]]:
    """A movie's reviews newest first (the native read), each as ReviewPublic's fields."""
    total, rows = await page_movie_reviews(session, movie_id, params)
    return total, [{**review.model_dump(), "display_name": name} for review, name in rows]


async def latest_movie_id(session: AsyncSession) -> int | None:
    """The movie added last (TMDB's `/movie/latest`)."""
    stmt = select(col(Movie.id)).order_by(col(Movie.created_at).desc(), col(Movie.id).desc())
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def genre_exists(session: AsyncSession, genre_id: int) -> bool:
    stmt = select(col(Genre.id)).where(col(Genre.id) == genre_id)
    return (await session.execute(stmt)).first() is not None
