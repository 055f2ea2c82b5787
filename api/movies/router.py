"""Catalog endpoints: lists, details, genres and the admin writes."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from api.audit.service import Actor
from api.cache import CATALOG, movie_scope, today_iso
from api.deps import AdminUser, PageDep, SessionDep, SettingsDep
from api.errors import NotFound
from api.http_cache import cached_json
from api.movies import queries, service, similar
from api.movies.filters import FiltersDep, SortByQuery, parse_sort
from api.movies.present import details, list_item, movie_item_fields
from api.movies.schemas import (
    GenreList,
    GenreWithCount,
    MovieCreate,
    MovieListItem,
    MoviePublic,
    MovieUpdate,
)
from api.pagination import Page, PageParams
from api.preconditions import CONDITIONAL, IfMatch, IfMatchDep, lock_current, tagged
from api.settings import Settings
from indexer.query import MovieFilters, SortSpec

router = APIRouter(tags=["movies"])
MovieId = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def _page(
    session: AsyncSession,
    settings: Settings,
    params: PageParams,
    clauses: list[ColumnElement[bool]],
    sort: SortSpec,
) -> Page[MovieListItem]:
    total, movies = await queries.page_movies(session, clauses, sort, params)
    items = [list_item(m, settings.IMAGE_BASE_URL) for m in movies]
    return Page[MovieListItem].build(params, total, items)


@router.get("/movies", response_model=Page[MovieListItem])
async def list_movies(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    params: PageDep,
    filters: FiltersDep,
    sort_by: SortByQuery = None,
) -> Response:
    """Browse the catalog from the database: filter by genre, language, dates, votes and people;
    sort by popularity, rating, release date or title."""
    sort = parse_sort(sort_by or "popularity.desc")
    clauses = queries.filter_clauses(filters)
    return await cached_json(
        request, [CATALOG], lambda: _page(session, settings, params, clauses, sort)
    )


@router.get("/movies/popular", response_model=Page[MovieListItem])
async def list_popular(
    request: Request, session: SessionDep, settings: SettingsDep, params: PageDep
) -> Response:
    """The most popular movies."""
    sort = SortSpec("popularity", descending=True)
    return await cached_json(request, [CATALOG], lambda: _page(session, settings, params, [], sort))


@router.get("/movies/top-rated", response_model=Page[MovieListItem])
async def list_top_rated(
    request: Request, session: SessionDep, settings: SettingsDep, params: PageDep
) -> Response:
    """The best rated movies with at least TOP_RATED_MIN_VOTES votes."""
    clauses = queries.filter_clauses(MovieFilters(vote_count_gte=settings.TOP_RATED_MIN_VOTES))
    sort = SortSpec("vote_average", descending=True)
    return await cached_json(
        request, [CATALOG], lambda: _page(session, settings, params, clauses, sort)
    )


@router.get("/movies/upcoming", response_model=Page[MovieListItem])
async def list_upcoming(
    request: Request, session: SessionDep, settings: SettingsDep, params: PageDep
) -> Response:
    """Movies released after today, up to UPCOMING_WINDOW_DAYS ahead, soonest first."""
    today = date.today()
    window = MovieFilters(
        release_date_gte=today + timedelta(days=1),
        release_date_lte=today + timedelta(days=settings.UPCOMING_WINDOW_DAYS),
    )
    clauses = queries.filter_clauses(window)
    sort = SortSpec("release_date", descending=False)
    return await cached_json(
        request,
        [CATALOG],
        lambda: _page(session, settings, params, clauses, sort),
        vary=today_iso,
    )


@router.get("/movies/now-playing", response_model=Page[MovieListItem])
async def list_now_playing(
    request: Request, session: SessionDep, settings: SettingsDep, params: PageDep
) -> Response:
    """Movies released within NOW_PLAYING_WINDOW_DAYS up to today, newest first."""
    today = date.today()
    window = MovieFilters(
        release_date_gte=today - timedelta(days=settings.NOW_PLAYING_WINDOW_DAYS),
        release_date_lte=today,
    )
    clauses = queries.filter_clauses(window)
    sort = SortSpec("release_date", descending=True)
    return await cached_json(
        request,
        [CATALOG],
        lambda: _page(session, settings, params, clauses, sort),
        vary=today_iso,
    )


async def _answer(session: AsyncSession, settings: Settings, movie_id: int) -> MoviePublic:
    """A movie as GET answers it, read in the write's own transaction (its changes flushed)."""
    await session.flush()
    fields = await queries.movie_details(session, movie_id)
    assert fields is not None
    return details(fields, settings.IMAGE_BASE_URL)


@router.get("/movies/{movie_id:int}", response_model=MoviePublic)
async def get_movie(
    request: Request, session: SessionDep, settings: SettingsDep, movie_id: MovieId
) -> Response:
    """One movie with its genres, cast and directors."""

    async def build() -> MoviePublic:
        fields = await queries.movie_details(session, movie_id)
        if fields is None:
            raise NotFound(f"Movie {movie_id} not found", "movie_not_found")
        return details(fields, settings.IMAGE_BASE_URL)

    return await cached_json(request, [movie_scope(movie_id)], build)


async def _unchanged(
    session: AsyncSession, settings: Settings, movie_id: int, if_match: IfMatch | None
) -> None:
    """With If-Match: the movie locked for this write, and 412 unless it still answers with
    that ETag (a movie that is gone is left to the write's own 404)."""
    if if_match is not None and await lock_current(session, service.movie_row(movie_id)):
        if_match.require(await _answer(session, settings, movie_id))


@router.post("/movies", status_code=status.HTTP_201_CREATED, response_model=MoviePublic)
async def create_movie(
    session: SessionDep, settings: SettingsDep, admin: AdminUser, body: MovieCreate
) -> Response:
    """Admins: add a movie (genres and people by id or by name); searchable within seconds.
    The answer carries the movie's ETag."""
    movie_id = await service.create_movie(session, body, Actor.admin(admin))
    return tagged(await _answer(session, settings, movie_id), status.HTTP_201_CREATED)


@router.put("/movies/{movie_id:int}", response_model=MoviePublic, responses=CONDITIONAL)
@router.patch("/movies/{movie_id:int}", response_model=MoviePublic, responses=CONDITIONAL)
async def update_movie(
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminUser,
    movie_id: MovieId,
    body: MovieUpdate,
    if_match: IfMatchDep,
) -> Response:
    """Admins: change a movie (PUT and PATCH alike: only the fields sent change). With
    If-Match, 412 if the movie changed since; the answer carries its new ETag."""
    await _unchanged(session, settings, movie_id, if_match)
    await service.update_movie(session, movie_id, body, Actor.admin(admin))
    return tagged(await _answer(session, settings, movie_id))


@router.delete(
    "/movies/{movie_id:int}", status_code=status.HTTP_204_NO_CONTENT, responses=CONDITIONAL
)
async def delete_movie(
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminUser,
    movie_id: MovieId,
    if_match: IfMatchDep,
) -> Response:
    """Admins: delete a movie with its reviews and list entries; gone from search within seconds.
    With If-Match, 412 if the movie changed since."""
    await _unchanged(session, settings, movie_id, if_match)
    await service.delete_movie(session, movie_id, Actor.admin(admin))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/genres", response_model=list[GenreWithCount])
async def list_genres(request: Request, session: SessionDep) -> Response:
    """Every genre with the number of movies in it."""

    async def build() -> GenreList:
        rows = await queries.list_genres_with_counts(session)
        return GenreList([GenreWithCount(id=g.id, name=g.name, movie_count=n) for g, n in rows])

    return await cached_json(request, [CATALOG], build)


@router.get("/movies/{movie_id:int}/similar", response_model=Page[MovieListItem])
async def list_similar(
    request: Request, session: SessionDep, settings: SettingsDep, movie_id: MovieId, params: PageDep
) -> Response:
    """Movies most like this one (shared keywords, director, cast, genres); never itself."""

    async def build() -> Page[MovieListItem]:
        if not await queries.movie_exists(session, movie_id):
            raise NotFound(f"Movie {movie_id} not found", "movie_not_found")
        total, rows = await similar.similar_page(session, movie_id, params)
        items = await movie_item_fields(session, rows, settings.IMAGE_BASE_URL)
        results = [MovieListItem.model_validate(item) for item in items]
        return Page[MovieListItem].build(params, total, results)

    return await cached_json(request, [CATALOG], build)
