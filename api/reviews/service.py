"""Review decisions: writing, editing and removing reviews, and moving the movie's votes with
them. Never commits.

Every writer locks the movie row first, then the review row: one order for all, so the review's
foreign-key check and the vote update never deadlock two writers against each other.
"""

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.audit import service as audit
from api.errors import Conflict, Forbidden, NotFound
from api.movies.models import Movie
from api.outbox import record_changes
from api.reviews import queries
from api.reviews.models import Review
from api.reviews.schemas import ReviewCreate, ReviewUpdate
from api.trending.models import ActivityKind
from api.trending.service import record_activity
from api.types import utcnow
from api.users.models import User


async def create_review(
    session: AsyncSession, user: User, movie_id: int, data: ReviewCreate
) -> Review:
    assert user.id is not None
    await _lock_movie(session, movie_id)
    if await queries.find_review(session, user.id, movie_id) is not None:
        raise _review_exists(movie_id)
    fields = {
        "user_id": user.id,
        "movie_id": movie_id,
        "rating": data.rating,
        "content": data.content,
    }
    review = Review.model_validate(fields)
    try:
        async with session.begin_nested():
            session.add(review)
            await session.flush()
    except IntegrityError as exc:  # a concurrent request by the same user got there first
        raise _review_exists(movie_id) from exc
    await _move_votes(session, movie_id, data.rating, 1)
    await record_activity(session, movie_id, user.id, _activity(review))
    return review


async def update_review(
    session: AsyncSession, user: User, movie_id: int, data: ReviewUpdate
) -> Review:
    assert user.id is not None
    await _lock_movie(session, movie_id)
    review = await _existing(session, user.id, movie_id)
    old_rating = review.rating
    if data.rating is not None:
        review.rating = data.rating
    if "content" in data.model_fields_set:
        review.content = data.content
    review.updated_at = utcnow()
    await session.flush()
    if review.rating != old_rating:
        await _move_votes(session, movie_id, review.rating - old_rating, 0)
    await record_activity(session, movie_id, user.id, _activity(review))
    return review


async def delete_review(
    session: AsyncSession, actor: User, movie_id: int, user_id: int | None = None
) -> None:
    """Remove the actor's review of the movie, or (admins only) the review of `user_id`: an
    admin's removal of someone else's goes to the audit trail."""
    author_id = actor.id if user_id is None else user_id
    assert author_id is not None
    if author_id != actor.id and not actor.is_admin:
        raise Forbidden("Only an admin may remove another user's review", "not_your_review")
    await _lock_movie(session, movie_id)
    review = await _existing(session, author_id, movie_id)
    await session.execute(delete(Review).where(col(Review.id) == review.id))
    await _move_votes(session, movie_id, -review.rating, -1)
    if author_id != actor.id:
        await _audit_removal(session, actor, review)


async def remove_user_reviews(session: AsyncSession, user_id: int) -> list[int]:
    """Take every rating of the user out of its movie's votes and delete the reviews; returns
    the movie ids. Call it before deleting the user (the cascade alone would leave the votes)."""
    movie_ids = await _rated_movie_ids(session, user_id)
    if not movie_ids:
        return []
    await _lock_movies(session, movie_ids)
    return await _take_out_reviews(session, user_id)


async def remove_account_reviews(session: AsyncSession, user_id: int) -> list[int]:
    """remove_user_reviews for an account deleted in this transaction, exact whatever its
    owner does meanwhile: the user's row is locked after the movies, so a rating of theirs in
    flight commits first and is taken out, and a later one fails with the account (its review
    row needs the user's row). Movies first, as every rating locks its movie before touching
    its author's row: no deadlock with the ratings of anyone."""
    await _lock_movies(session, await _rated_movie_ids(session, user_id))
    user = select(col(User.id)).where(col(User.id) == user_id).with_for_update()
    await session.execute(user)
    return await _take_out_reviews(session, user_id)


async def _rated_movie_ids(session: AsyncSession, user_id: int) -> list[int]:
    listed = select(col(Review.movie_id)).where(col(Review.user_id) == user_id)
    return sorted(set((await session.execute(listed)).scalars()))


async def _lock_movies(session: AsyncSession, movie_ids: list[int]) -> None:
    if not movie_ids:
        return
    # Several movies at once: locked in id order, so this cannot deadlock with another such call.
    locks = (
        select(col(Movie.id))
        .where(col(Movie.id).in_(movie_ids))
        .order_by(col(Movie.id))
        .with_for_update()
    )
    await session.execute(locks)


async def _take_out_reviews(session: AsyncSession, user_id: int) -> list[int]:
    # A locking read sees the reviews as they are now, not as the transaction's snapshot did.
    current = select(Review).where(col(Review.user_id) == user_id).with_for_update()
    reviews = list(
        (await session.execute(current.execution_options(populate_existing=True))).scalars()
    )
    if not reviews:
        return []
    for review in reviews:
        await _move_votes(session, review.movie_id, -review.rating, -1)
    await session.execute(delete(Review).where(col(Review.id).in_([r.id for r in reviews])))
    return sorted({r.movie_id for r in reviews})


async def _audit_removal(session: AsyncSession, admin: User, review: Review) -> None:
    assert review.id is not None
    fields = ("movie_id", "user_id", "rating", "content", "created_at")
    gone = audit.deleted({name: getattr(review, name) for name in fields})
    await audit.record(session, audit.Actor.admin(admin), "delete", "review", review.id, gone)


async def _lock_movie(session: AsyncSession, movie_id: int) -> None:
    stmt = select(col(Movie.id)).where(col(Movie.id) == movie_id).with_for_update()
    if (await session.execute(stmt)).first() is None:
        raise NotFound(f"Movie {movie_id} not found", "movie_not_found")


async def _existing(session: AsyncSession, user_id: int, movie_id: int) -> Review:
    review = await queries.find_review(session, user_id, movie_id, lock=True)
    if review is None:
        raise NotFound(f"No review of movie {movie_id} by this user", "review_not_found")
    return review


async def _move_votes(
    session: AsyncSession, movie_id: int, delta_sum: float, delta_count: int
) -> None:
    """Add a rating change to the movie's votes in one UPDATE computed from the row itself,
    so concurrent changes never overwrite each other; then let the index follow."""
    new_sum = col(Movie.user_rating_sum) + delta_sum
    new_count = col(Movie.user_rating_count) + delta_count
    votes = col(Movie.base_vote_count) + new_count
    weighted = col(Movie.base_vote_average) * col(Movie.base_vote_count) + new_sum
    average = func.coalesce(weighted / func.nullif(votes, 0), 0.0)
    # MySQL assigns left to right and later expressions see earlier assignments: the totals
    # come before the running sums they read, so MySQL and standard SQL compute the same.
    stmt = (
        update(Movie)
        .where(col(Movie.id) == movie_id)
        .ordered_values(
            (col(Movie.vote_average), average),
            (col(Movie.vote_count), votes),
            (col(Movie.user_rating_sum), new_sum),
            (col(Movie.user_rating_count), new_count),
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)
    await record_changes(session, [movie_id])


def _activity(review: Review) -> ActivityKind:
    has_text = bool(review.content and review.content.strip())
    return ActivityKind.REVIEW if has_text else ActivityKind.RATING


def _review_exists(movie_id: int) -> Conflict:
    return Conflict(f"You already reviewed movie {movie_id}; edit it with PUT", "review_exists")
