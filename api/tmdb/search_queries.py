"""The database reads of /3 search: keywords and companies whose name starts with a query
(their name indexes serve the prefix; the collation ignores case)."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.movies.models import Company, Keyword
from api.pagination import PageParams


def like_prefix(text: str) -> str:
    """A LIKE pattern for names starting with `text`, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


async def _named_page(
    session: AsyncSession, model: type[Keyword] | type[Company], q: str, params: PageParams
) -> tuple[int, list[tuple[int, str]]]:
    match = col(model.name).like(like_prefix(q), escape="\\")
    count: Any = select(func.count()).select_from(model).where(match)
    total: int = (await session.execute(count)).scalar_one()
    if params.offset >= total:
        return total, []
    stmt = (
        select(col(model.id), col(model.name))
        .where(match)
        .order_by(col(model.name), col(model.id))
        .offset(params.offset)
        .limit(params.per_page)
    )
    return total, [(row[0], row[1]) for row in await session.execute(stmt) if row[0] is not None]


async def keywords(
    session: AsyncSession, q: str, params: PageParams
) -> tuple[int, list[tuple[int, str]]]:
    """(total, this page of (id, name)) of the keywords whose name starts with q."""
    return await _named_page(session, Keyword, q, params)


async def companies(
    session: AsyncSession, q: str, params: PageParams
) -> tuple[int, list[tuple[int, str]]]:
    """(total, this page of (id, name)) of the companies whose name starts with q."""
    return await _named_page(session, Company, q, params)
