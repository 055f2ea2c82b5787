"""Catalog endpoints: lists, details, genres and the admin writes."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.db import SessionDep
from api.deps import AdminUser, SettingsDep
from api.errors import NotFound
from api.movies import queries, service
from api.movies.filters import FiltersDep, SortByQuery, parse_sort
from api.movies.present import list_item, movie_public
from api.movies.schemas import GenreWithCount, MovieCreate, MovieListItem, MoviePublic, MovieUpdate
from api.pagination import Page, PageDep, PageParams
from api.settings import Settings
from indexer.query import MovieFilters, SortSpec
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement


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


@router.get("/movies")
async def list_movies(
    session: SessionDep, settings: SettingsDep, params: PageDep, filters: FiltersDep, sort_by: SortByQuery = None
) -> Page[MovieListItem]:
    sort = parse_sort(sort_by or "popularity.desc")
    return await _page(session, settings, params, queries.filter_clauses(filters), sort)


@router.get("/movies/popular")
async def list_popular(session: SessionDep, settings: SettingsDep, params: PageDep) -> Page[MovieListItem]:
    return await _page(session, settings, params, [], SortSpec("popularity", descending=True))


@router.get("/movies/top-rated")
async def list_top_rated(session: SessionDep, settings: SettingsDep, params: PageDep) -> Page[MovieListItem]:
    clauses = queries.filter_clauses(MovieFilters(vote_count_gte=settings.TOP_RATED_MIN_VOTES))
    return await _page(session, settings, params, clauses, SortSpec("vote_average", descending=True))


@router.get("/movies/upcoming")
async def list_upcoming(session: SessionDep, settings: SettingsDep, params: PageDep) -> Page[MovieListItem]:
    today = date.today()
    window = MovieFilters(
        release_date_gte=today + timedelta(days=1),
        release_date_lte=today + timedelta(days=settings.UPCOMING_WINDOW_DAYS),
    )
    clauses = queries.filter_clauses(window)
    return await _page(session, settings, params, clauses, SortSpec("release_date", descending=False))


@router.get("/movies/now-playing")
async def list_now_playing(session: SessionDep, settings: SettingsDep, params: PageDep) -> Page[MovieListItem]:
    today = date.today()
    window = MovieFilters(
        release_date_gte=today - timedelta(days=settings.NOW_PLAYING_WINDOW_DAYS), release_date_lte=today
    )
    clauses = queries.filter_clauses(window)
    return await _page(session, settings, params, clauses, SortSpec("release_date", descending=True))


@router.get("/movies/{movie_id:int}")
async def get_movie(session: SessionDep, settings: SettingsDep, movie_id: MovieId) -> MoviePublic:
    movie = await queries.get_movie(session, movie_id)
    if movie is None:
        raise NotFound(f"Movie {movie_id} not found", "movie_not_found")
    return movie_public(movie, settings.IMAGE_BASE_URL)


@router.post("/movies", status_code=status.HTTP_201_CREATED)
async def create_movie(
    session: SessionDep, settings: SettingsDep, _: AdminUser, body: MovieCreate
) -> MoviePublic:
    movie = await service.create_movie(session, body)
    return movie_public(movie, settings.IMAGE_BASE_URL)


@router.put("/movies/{movie_id:int}")
@router.patch("/movies/{movie_id:int}")
async def update_movie(
    session: SessionDep, settings: SettingsDep, _: AdminUser, movie_id: MovieId, body: MovieUpdate
) -> MoviePublic:
    movie = await service.update_movie(session, movie_id, body)
    return movie_public(movie, settings.IMAGE_BASE_URL)


@router.delete("/movies/{movie_id:int}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_movie(session: SessionDep, _: AdminUser, movie_id: MovieId) -> Response:
    await service.delete_movie(session, movie_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/genres")
async def list_genres(session: SessionDep) -> list[GenreWithCount]:
    rows = await queries.list_genres_with_counts(session)
    return [GenreWithCount(id=g.id, name=g.name, movie_count=n) for g, n in rows]  # type: ignore[arg-type]
