"""`/3/trending/{media_type}/{time_window}`: movies from Marquee's trending (users' activity
over the last day or week, then popularity), each with `media_type: "movie"`, for `movie` and
`all`; `person` and `tv` answer empty pages (Marquee ranks no people by activity and has no TV)."""

from typing import Any

from fastapi import APIRouter, Request, Response

from api.cache import CATALOG, TRENDING
from api.deps import SessionDep, SettingsDep
from api.movies.present import item_fields
from api.tmdb import shapes
from api.tmdb.cached import cached_answer
from api.tmdb.errors import NOT_FOUND, TmdbError
from api.tmdb.paging import TmdbPage, TmdbPageDep
from api.trending import queries
from api.trending.queries import WINDOWS
from api.types import utcnow

router = APIRouter(tags=["trending"])

Page = TmdbPage[dict[str, Any]]


def _known(time_window: str) -> str:
    """`day` or `week`; any other window is a path TMDB does not have (404, code 34)."""
    if time_window not in WINDOWS:
        raise TmdbError(NOT_FOUND)
    return time_window


@router.get("/trending/movie/{time_window}", response_model=Page)
@router.get("/trending/all/{time_window}", response_model=Page)
async def list_trending_movies(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    params: TmdbPageDep,
    time_window: str,
) -> Response:
    """Movies trending over the last `day` or `week` by users' activity, then by popularity;
    for `all` too (Marquee has no TV and ranks no people)."""
    window = _known(time_window)

    async def build() -> Page:
        total, rows = await queries.page_trending(session, window, utcnow(), params)
        base = settings.IMAGE_BASE_URL
        return Page.build(
            params, total, [shapes.movie_media_item(item_fields(r, base)) for r in rows]
        )

    return await cached_answer(request, [CATALOG, TRENDING], build)


@router.get("/trending/person/{time_window}", response_model=Page)
@router.get("/trending/tv/{time_window}", response_model=Page)
async def list_trending_nothing(params: TmdbPageDep, time_window: str) -> Page:
    """People and TV: always an empty page."""
    _known(time_window)
    return Page.build(params, 0, [])
