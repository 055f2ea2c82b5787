"""Trending endpoint: movies ranked by users' recent activity."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.cache import CATALOG, TRENDING
from api.deps import PageDep, SessionDep, SettingsDep
from api.http_cache import cached_json
from api.movies.present import list_item
from api.movies.schemas import MovieListItem
from api.pagination import Page
from api.trending import queries
from api.trending.schemas import Window
from api.types import utcnow

router = APIRouter(tags=["movies"])


@router.get("/movies/trending", response_model=Page[MovieListItem])
async def list_trending(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    params: PageDep,
    window: Annotated[Window, Query(description="the activity window")] = "week",
) -> Response:
    """Movies trending over the last day or week by users' activity, then by popularity."""

    async def build() -> Page[MovieListItem]:
        total, rows = await queries.page_trending(session, window, utcnow(), params)
        items = [list_item(row, settings.IMAGE_BASE_URL) for row in rows]
        return Page[MovieListItem].build(params, total, items)

    return await cached_json(request, [CATALOG, TRENDING], build)
