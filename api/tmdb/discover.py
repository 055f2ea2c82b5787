"""`/3/discover/movie` (TMDB_V3.md 4.5): the catalog filtered and sorted from the database, as
the native `/movies` list is (same clauses, same order, same cache scope), as TMDB's page."""

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.cache import CATALOG
from api.deps import SessionDep, SettingsDep
from api.movies import queries
from api.movies.models import Movie
from api.movies.present import item_fields
from api.pagination import PageParams
from api.tmdb.cached import cached_answer
from api.tmdb.discover_filters import Clauses, DiscoverClauses
from api.tmdb.paging import TmdbPage, TmdbPageDep
from api.tmdb.shapes import movie_item, page
from indexer.query import SortSpec

router = APIRouter(tags=["discover"])

DiscoverSort = Literal[
    "popularity.desc", "popularity.asc",
    "vote_average.desc", "vote_average.asc",
    "vote_count.desc", "vote_count.asc",
    "primary_release_date.desc", "primary_release_date.asc",
    "release_date.desc", "release_date.asc",
    "title.desc", "title.asc",
    "original_title.desc", "original_title.asc",
    "revenue.desc", "revenue.asc",
]  # fmt: skip
# TMDB's sort fields onto the native ones: Marquee keeps one release date.
_NATIVE_FIELD = {"primary_release_date": "release_date"}


def order_by(sort_by: str) -> list[Any]:
    """The native order (ties by id, in the sort's direction: one index serves both); the
    original title, which native lists do not sort by, alike."""
    name, direction = sort_by.split(".")
    descending = direction == "desc"
    if name == "original_title":
        by = [col(Movie.original_title), col(Movie.id)]
        return [c.desc() if descending else c.asc() for c in by]
    native = SortSpec(field=_NATIVE_FIELD.get(name, name), descending=descending)  # type: ignore[arg-type]
    return queries.order_by(native)


async def page_movies(
    session: AsyncSession, clauses: Clauses, order: list[Any], params: PageParams
) -> tuple[int, list[dict[str, Any]]]:
    """As api.movies.queries.page_movies, in any order: (total, this page's rows with parts)."""
    where = and_(True, *clauses)
    count = select(func.count()).select_from(Movie).where(where)
    total: int = (await session.execute(count)).scalar_one()
    if params.offset >= total:
        return total, []
    stmt = (
        select(*queries.PUBLIC_COLUMNS)
        .where(where)
        .order_by(*order)
        .offset(params.offset)
        .limit(params.per_page)
    )
    rows = [row._asdict() for row in await session.execute(stmt)]
    return total, await queries.with_parts(session, rows)


@router.get("/discover/movie", response_model=TmdbPage[dict[str, Any]])
async def discover_movies(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    params: TmdbPageDep,
    clauses: DiscoverClauses,
    sort_by: Annotated[
        DiscoverSort | Literal[""], Query(description="field.direction; ties break by id")
    ] = "popularity.desc",
) -> Response:
    """Movies by genres, people, keywords, companies, dates, votes, runtime and language (`,`
    all of them, `|` any of them), sorted; filters Marquee cannot apply answer 422."""

    async def build() -> bytes:
        total, rows = await page_movies(
            session, clauses, order_by(sort_by or "popularity.desc"), params
        )
        items = [movie_item(item_fields(row, settings.IMAGE_BASE_URL)) for row in rows]
        return orjson.dumps(page(params.page, total, items))

    return await cached_answer(request, [CATALOG], build)
