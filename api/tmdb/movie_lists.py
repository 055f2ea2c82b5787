"""The movie lists (spec 4.3): `/3/movie/popular`, `/top_rated`, `/upcoming` and `/now_playing`
(those two with the `dates` window used), and the legacy `/3/genre/{id}/movies`: the native
catalog queries and settings, 20 to a page in TMDB's envelope."""

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from api.cache import CATALOG, today_iso
from api.deps import SessionDep, SettingsDep
from api.movies import queries
from api.movies.present import item_fields
from api.pagination import PageParams
from api.settings import Settings
from api.tmdb import movie_queries, shapes
from api.tmdb.cached import cached_answer
from api.tmdb.errors import NOT_FOUND, TmdbError
from api.tmdb.paging import TmdbPage, TmdbPageDep
from indexer.query import MovieFilters, SortSpec

router = APIRouter(tags=["movies"])

Page = TmdbPage[dict[str, Any]]
BY_POPULARITY = SortSpec("popularity", descending=True)
MAX_ID = 2**31 - 1


async def _movie_page(
    session: AsyncSession,
    settings: Settings,
    params: PageParams,
    filters: MovieFilters,
    sort: SortSpec = BY_POPULARITY,
) -> tuple[int, list[dict[str, Any]]]:
    """How many movies match, and this page of them as TMDB list items (the native read)."""
    clauses: list[ColumnElement[bool]] = queries.filter_clauses(filters)
    total, rows = await queries.page_movies(session, clauses, sort, params)
    base = settings.IMAGE_BASE_URL
    return total, [shapes.movie_item(item_fields(row, base)) for row in rows]


@router.get("/movie/popular", response_model=Page)
async def list_popular(
    request: Request, session: SessionDep, settings: SettingsDep, params: TmdbPageDep
) -> Response:
    """The most popular movies."""

    async def build() -> Page:
        return Page.build(params, *await _movie_page(session, settings, params, MovieFilters()))

    return await cached_answer(request, [CATALOG], build)


@router.get("/movie/top_rated", response_model=Page)
async def list_top_rated(
    request: Request, session: SessionDep, settings: SettingsDep, params: TmdbPageDep
) -> Response:
    """The best rated movies with at least TOP_RATED_MIN_VOTES votes, as the native list."""
    enough_votes = MovieFilters(vote_count_gte=settings.TOP_RATED_MIN_VOTES)
    best = SortSpec("vote_average", descending=True)

    async def build() -> Page:
        return Page.build(params, *await _movie_page(session, settings, params, enough_votes, best))

    return await cached_answer(request, [CATALOG], build)


def _window(first: date, last: date) -> tuple[MovieFilters, dict[str, str]]:
    """The release-date filter and the `dates` object that echoes it."""
    dates = {"maximum": last.isoformat(), "minimum": first.isoformat()}
    return MovieFilters(release_date_gte=first, release_date_lte=last), dates


@router.get("/movie/upcoming", response_model=Page)
async def list_upcoming(
    request: Request, session: SessionDep, settings: SettingsDep, params: TmdbPageDep
) -> Response:
    """Movies released from tomorrow to UPCOMING_WINDOW_DAYS ahead, most popular first."""
    today = date.today()
    last = today + timedelta(days=settings.UPCOMING_WINDOW_DAYS)
    return await _dated_page(request, session, settings, params, today + timedelta(days=1), last)


@router.get("/movie/now_playing", response_model=Page)
async def list_now_playing(
    request: Request, session: SessionDep, settings: SettingsDep, params: TmdbPageDep
) -> Response:
    """Movies released within NOW_PLAYING_WINDOW_DAYS up to today, most popular first."""
    today = date.today()
    first = today - timedelta(days=settings.NOW_PLAYING_WINDOW_DAYS)
    return await _dated_page(request, session, settings, params, first, today)


async def _dated_page(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    params: PageParams,
    first: date,
    last: date,
) -> Response:
    """The most popular movies released from `first` to `last`, with the `dates` echoed;
    cached for the day."""
    filters, dates = _window(first, last)

    async def build() -> Page:
        total, items = await _movie_page(session, settings, params, filters)
        return Page.build(params, total, items, dates=dates)

    return await cached_answer(request, [CATALOG], build, vary=today_iso)


@router.get("/genre/{genre_id:int}/movies", response_model=Page)
async def list_genre_movies(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    genre_id: Annotated[int, Path(description="a genre id (28 is Action)")],
    params: TmdbPageDep,
) -> Response:
    """Legacy (tmdbsimple's `Genres(id).movies()`): the genre's movies, most popular first."""
    in_genre = MovieFilters(genres_any=[genre_id])

    async def build() -> Page:
        if not (genre_id <= MAX_ID and await movie_queries.genre_exists(session, genre_id)):
            raise TmdbError(NOT_FOUND)
        total, items = await _movie_page(session, settings, params, in_genre)
        return Page.build(params, total, items, id=genre_id)

    return await cached_answer(request, [CATALOG], build)
