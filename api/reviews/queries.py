"""Review reads: a movie's reviews, a user's reviews, one user's review of a movie."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.movies.models import Movie
from api.pagination import PageParams
from api.reviews.models import Review
from api.users.models import User


async def find_review(
    session: AsyncSession, user_id: int, movie_id: int, lock: bool = False
) -> Review | None:
    """The user's review of the movie; `lock` reads the current row and holds it until commit."""
    stmt = select(Review).where(col(Review.user_id) == user_id, col(Review.movie_id) == movie_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def user_rating(session: AsyncSession, user_id: int, movie_id: int) -> float | None:
    stmt = select(col(Review.rating)).where(
        col(Review.user_id) == user_id, col(Review.movie_id) == movie_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def page_movie_reviews(
    session: AsyncSession, movie_id: int, params: PageParams
) -> tuple[int, list[tuple[Review, str]]]:
    """A movie's reviews newest first (ties by id), each with its author's display name."""
    count = select(func.count()).select_from(Review).where(col(Review.movie_id) == movie_id)
    total = (await session.execute(count)).scalar_one()
    stmt = (
        select(Review, col(User.display_name))
        .join(User, col(User.id) == col(Review.user_id))
        .where(col(Review.movie_id) == movie_id)
        .order_by(col(Review.created_at).desc(), col(Review.id).desc())
        .offset(params.offset)
        .limit(params.per_page)
    )
    return total, [(r, name) for r, name in (await session.execute(stmt)).all()]


async def page_user_reviews(
    session: AsyncSession, user_id: int, params: PageParams
) -> tuple[int, list[tuple[Review, str]]]:
    """A user's reviews newest first (ties by id), each with its movie's title."""
    count = select(func.count()).select_from(Review).where(col(Review.user_id) == user_id)
    total = (await session.execute(count)).scalar_one()
    stmt = (
        select(Review, col(Movie.title))
        .join(Movie, col(Movie.id) == col(Review.movie_id))
        .where(col(Review.user_id) == user_id)
        .order_by(col(Review.created_at).desc(), col(Review.id).desc())
        .offset(params.offset)
        .limit(params.per_page)
    )
    return total, [(r, title) for r, title in (await session.execute(stmt)).all()]
