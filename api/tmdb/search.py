"""`/3/search/*` (TMDB_V3.md 4.6): movies by title and people by name through Marquee's
typo-tolerant search (the same index, client and cache scope as native search), both together
(`multi`), keywords and companies by name prefix from the database; TV and collections, which
Marquee has none of, as empty pages."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from api.cache import CATALOG, SEARCH
from api.deps import SessionDep, SettingsDep
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
    q = query.strip()
    if not q:
        return _empty()
    filters = year_filter(year, primary_release_year)

    async def build() -> bytes:
        client = await meili(request)
        total, movies = await movie_matches(client, settings, q, filters, params)
        return orjson.dumps(page(params.page, total, movies))

    return await cached_answer(request, [SEARCH], build, vary=settings.MEILI_INDEX)


@router.get("/search/person", response_model=AnyPage)
async def search_person(
    request: Request, settings: SettingsDep, params: TmdbPageDep, query: SearchQuery = ""
) -> Response:
    """People by name, the most popular first among equal matches, each with the three films
    they are best known for."""
    q = query.strip()
    if not q:
        return _empty()

    async def build() -> bytes:
        total, people = await people_matches(await meili(request), settings, q, params)
        return orjson.dumps(page(params.page, total, people))

    return await cached_answer(request, [SEARCH], build, vary=settings.MEILI_INDEX)


@router.get("/search/multi", response_model=AnyPage)
async def search_multi(
    request: Request, settings: SettingsDep, params: TmdbPageDep, query: SearchQuery = ""
) -> Response:
    """Movies (as /search/movie) then people (as /search/person), 20 a page, each with its
    `media_type`."""
    q = query.strip()
    if not q:
        return _empty()

    async def build() -> bytes:
        client = await meili(request)
        movies_total, movies = await movie_matches(client, settings, q, None, params)
        # The people that follow the movies: from the first past them, as many as fit.
        start = max(0, params.offset - movies_total)
        window = await people_window(client, settings, q, start, PAGE_SIZE - len(movies))
        results = [*map(movie_media_item, movies), *window.people]
        return orjson.dumps(page(params.page, movies_total + window.total, results))

    return await cached_answer(request, [SEARCH], build, vary=settings.MEILI_INDEX)


@router.get("/search/keyword", response_model=AnyPage)
async def search_keyword(
    request: Request, session: SessionDep, params: TmdbPageDep, query: SearchQuery = ""
) -> Response:
    """Keywords whose name starts with the query, by name."""
    q = query.strip()
    if not q:
        return _empty()

    async def build() -> bytes:
        total, rows = await search_queries.keywords(session, q, params)
        items = [{"id": kid, "name": name} for kid, name in rows]
        return orjson.dumps(page(params.page, total, items))

    return await cached_answer(request, [CATALOG], build)


@router.get("/search/company", response_model=AnyPage)
async def search_company(
    request: Request, session: SessionDep, params: TmdbPageDep, query: SearchQuery = ""
) -> Response:
    """Production companies whose name starts with the query, by name (no logos kept)."""
    q = query.strip()
    if not q:
        return _empty()

    async def build() -> bytes:
        total, rows = await search_queries.companies(session, q, params)
        items = [_company(cid, name) for cid, name in rows]
        return orjson.dumps(page(params.page, total, items))

    return await cached_answer(request, [CATALOG], build)


def _company(company_id: int, name: str) -> dict[str, Any]:
    return {"id": company_id, "name": name, "logo_path": None, "origin_country": ""}


@router.get("/search/tv", response_model=AnyPage)
@router.get("/search/collection", response_model=AnyPage)
async def search_nothing(params: TmdbPageDep) -> Response:
    """No TV shows nor collections in Marquee: always an empty page."""
    return Response(content=orjson.dumps(page(params.page, 0, [])), media_type="application/json")
