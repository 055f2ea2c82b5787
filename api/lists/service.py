"""List decisions: adding movies to and removing them from a watchlist or favorites.
Never commits."""

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import NotFound
from api.lists import queries
from api.lists.models import ListEntry, ListKind
from api.movies.queries import movie_exists
from api.trending.models import ActivityKind
from api.trending.service import record_activity
from api.types import utcnow

_ACTIVITY = {ListKind.WATCHLIST: ActivityKind.WATCHLIST, ListKind.FAVORITE: ActivityKind.FAVORITE}


async def add_entry(
    session: AsyncSession, user_id: int, kind: ListKind, movie_id: int
) -> tuple[ListEntry, bool]:
    """Put the movie on the list; returns the entry and whether this call added it."""
    await _require_movie(session, movie_id)
    existing = await queries.find_entry(session, user_id, kind, movie_id)
    if existing is not None:
        return existing, False
    row = {"user_id": user_id, "kind": kind.value, "movie_id": movie_id, "added_at": utcnow()}
    try:
        async with session.begin_nested():
            await session.execute(insert(ListEntry).values(**row))
    except IntegrityError:  # a concurrent add committed first: the movie is already there
        winner = await queries.find_entry(session, user_id, kind, movie_id, current=True)
        if winner is None:  # not a duplicate after all: the movie went meanwhile
            raise _movie_not_found(movie_id) from None
        return winner, False
    await record_activity(session, movie_id, user_id, _ACTIVITY[kind])
    return ListEntry.model_validate(row), True


async def remove_entry(session: AsyncSession, user_id: int, kind: ListKind, movie_id: int) -> None:
    """Take the movie off the list. Idempotent: removing a movie that is not on the list
    succeeds too (204), so a retried DELETE never fails; an unknown movie is still a 404."""
    await _require_movie(session, movie_id)
    where = (
        col(ListEntry.user_id) == user_id,
        col(ListEntry.kind) == kind.value,
        col(ListEntry.movie_id) == movie_id,
    )
    await session.execute(delete(ListEntry).where(*where))


async def _require_movie(session: AsyncSession, movie_id: int) -> None:
    if not await movie_exists(session, movie_id):
        raise _movie_not_found(movie_id)


def _movie_not_found(movie_id: int) -> NotFound:
    return NotFound(f"Movie {movie_id} not found", "movie_not_found")
