"""List reads: a user's watchlist or favorites, and which lists hold a movie."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.lists.models import ListEntry, ListKind
from api.movies.models import Movie
from api.movies.queries import PUBLIC_COLUMNS, with_parts
from api.pagination import PageParams


async def find_entry(
    session: AsyncSession, user_id: int, kind: ListKind, movie_id: int, current: bool = False
) -> ListEntry | None:
    """The entry, if any; `current` reads the latest committed row (with a shared lock),
    not the transaction's snapshot."""
    if not current:
        return await session.get(ListEntry, (user_id, kind.value, movie_id))
    stmt = (
        select(ListEntry)
        .where(
            col(ListEntry.user_id) == user_id,
            col(ListEntry.kind) == kind.value,
            col(ListEntry.movie_id) == movie_id,
        )
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalars().first()


async def kinds_holding(session: AsyncSession, user_id: int, movie_id: int) -> set[ListKind]:
    stmt = select(col(ListEntry.kind)).where(
        col(ListEntry.user_id) == user_id, col(ListEntry.movie_id) == movie_id
    )
    return {ListKind(kind) for kind in (await session.execute(stmt)).scalars()}


async def page_entries(
    session: AsyncSession, user_id: int, kind: ListKind, params: PageParams
) -> tuple[int, list[dict[str, Any]]]:
    """The list's movies, most recently added first (ties by movie id, newest first): rows of
    their public fields and list item's parts, with when each was added."""
    mine = (col(ListEntry.user_id) == user_id, col(ListEntry.kind) == kind.value)
    total = (
        await session.execute(select(func.count()).select_from(ListEntry).where(*mine))
    ).scalar_one()
    stmt = (
        select(*PUBLIC_COLUMNS, col(ListEntry.added_at))
        .join(ListEntry, col(ListEntry.movie_id) == col(Movie.id))
        .where(*mine)
        .order_by(col(ListEntry.added_at).desc(), col(ListEntry.movie_id).desc())
        .offset(params.offset)
        .limit(params.per_page)
    )
    rows = [row._asdict() for row in await session.execute(stmt)]
    return total, await with_parts(session, rows)
