"""`/3/search/*` (TMDB_V3.md 4.6): movies by title and people by name through Marquee's
typo-tolerant search (the same index, client and cache scope as native search), both together
(`multi`), keywords and companies by name prefix from the database; TV and collections, which
Marquee has none of, as empty pages."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.cache import CATALOG, SEARCH
from api.deps import SessionDep, SettingsDep
from api.pagination import PageParams
from api.settings import Settings
from api.tmdb import search_queries
from api.tmdb.cached import cached_answer
from api.tmdb.paging import PAGE_SIZE, TmdbPage, TmdbPageDep
from api.tmdb.search_index import (
    Year,
    meili,
    movie_matches,
    people_matches,
    people_window,
    year_filter,
)
from api.tmdb.shapes import movie_media_item, page

router = APIRouter(tags=["search"])

SearchQuery = Annotated[str, Query(max_length=500, description="what to look for; typo-tolerant")]
# What TMDB answers a search without a query (clients compare against it).
EMPTY = orjson.dumps(page(1, 0, []))
AnyPage = TmdbPage[dict[str, Any]]
# (total, this page of (id, name)) of what is named with the query's prefix.
NamedPage = Callable[[AsyncSession, str, PageParams], Awaitable[tuple[int, list[tuple[int, str]]]]]


def _empty() -> Response:
    return Response(content=EMPTY, media_type="application/json")


@router.get("/search/movie", response_model=AnyPage)
async def search_movie(
    request: Request,
    settings: SettingsDep,
    params: TmdbPageDep,
    query: SearchQuery = "",
    year: Year = None,
    primary_release_year: Year = None,
) -> Response:
    """Movies by title or original title, an exact title first; `year` and
    `primary_release_year` keep those released that year."""
    filters = year_filter(year, primary_release_year)

    async def found(q: str) -> bytes:
        client = await meili(request)
        total, movies = await movie_matches(client, settings, q, filters, params)
        return orjson.dumps(page(params.page, total, movies))

    return await _searched(request, settings, query, found)


@router.get("/search/person", response_model=AnyPage)
async def search_person(
    request: Request, settings: SettingsDep, params: TmdbPageDep, query: SearchQuery = ""
) -> Response:
    """People by name, the most popular first among equal matches, each with the three films
    they are best known for."""

    async def found(q: str) -> bytes:
        total, people = await people_matches(await meili(request), settings, q, params)
        return orjson.dumps(page(params.page, total, people))

    return await _searched(request, settings, query, found)


@router.get("/search/multi", response_model=AnyPage)
async def search_multi(
    request: Request, settings: SettingsDep, params: TmdbPageDep, query: SearchQuery = ""
) -> Response:
    """Movies (as /search/movie) then people (as /search/person), 20 a page, each with its
    `media_type`."""

    async def found(q: str) -> bytes:
        client = await meili(request)
        movies_total, movies = await movie_matches(client, settings, q, None, params)
        # The people that follow the movies: from the first past them, as many as fit.
        start = max(0, params.offset - movies_total)
        window = await people_window(client, settings, q, start, PAGE_SIZE - len(movies))
        results = [*map(movie_media_item, movies), *window.people]
        return orjson.dumps(page(params.page, movies_total + window.total, results))

    return await _searched(request, settings, query, found)


async def _searched(
    request: Request, settings: Settings, query: str, found: Callable[[str], Awaitable[bytes]]
) -> Response:
    """What `found` answers for the query, cached with the index; without a query, an empty
    page."""
    q = query.strip()
    if not q:
        return _empty()
    return await cached_answer(request, [SEARCH], lambda: found(q), vary=settings.MEILI_INDEX)


@router.get("/search/keyword", response_model=AnyPage)
async def search_keyword(
    request: Request, session: SessionDep, params: TmdbPageDep, query: SearchQuery = ""
) -> Response:
    """Keywords whose name starts with the query, by name."""
    return await _by_name(request, session, params, query, search_queries.keywords, _keyword)


@router.get("/search/company", response_model=AnyPage)
async def search_company(
    request: Request, session: SessionDep, params: TmdbPageDep, query: SearchQuery = ""
) -> Response:
    """Production companies whose name starts with the query, by name (no logos kept)."""
    return await _by_name(request, session, params, query, search_queries.companies, _company)


async def _by_name(
    request: Request,
    session: AsyncSession,
    params: PageParams,
    query: str,
    find: NamedPage,
    item: Callable[[int, str], dict[str, Any]],
) -> Response:
    """This page of the (id, name) rows `find` has for the query, each shaped by `item`."""
    q = query.strip()
    if not q:
        return _empty()

    async def build() -> bytes:
        total, rows = await find(session, q, params)
        return orjson.dumps(page(params.page, total, [item(i, name) for i, name in rows]))

    return await cached_answer(request, [CATALOG], build)


def _keyword(keyword_id: int, name: str) -> dict[str, Any]:
    return {"id": keyword_id, "name": name}


def _company(company_id: int, name: str) -> dict[str, Any]:
    return {"id": company_id, "name": name, "logo_path": None, "origin_country": ""}


@router.get("/search/tv", response_model=AnyPage)
@router.get("/search/collection", response_model=AnyPage)
async def search_nothing(params: TmdbPageDep) -> Response:
    """No TV shows nor collections in Marquee: always an empty page."""
    return Response(content=orjson.dumps(page(params.page, 0, [])), media_type="application/json")
