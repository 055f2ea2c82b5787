"""The index-served parts of /3 search: movies matched on their titles only (TMDB searches
titles), people by name with `known_for` as full movie items (read from the movie index by id,
one request a page: the people documents keep only a movie's id, title, poster and date), and
the window of people `search/multi` shows after the movies."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query, Request
from meilisearch_python_sdk import AsyncClient

from api.pagination import PageParams
from api.search import service
from api.search.documents import list_item
from api.settings import Settings
from api.tmdb.paging import PAGE_SIZE
from api.tmdb.shapes import movie_item, person_item
from indexer.query import MovieFilters

# TMDB matches a movie search against titles only, not cast, crew or overview.
TITLES = ("title", "original_title")
Year = Annotated[int | None, Query(ge=1, le=9999)]


async def meili(request: Request) -> AsyncClient:
    """The API's search client (built now if Meilisearch was down at start-up), or a 503."""
    client: AsyncClient | None = request.app.state.meili
    return client or await service.connect(request.app.state.search)


def year_filter(year: int | None, primary_release_year: int | None) -> MovieFilters:
    """Released in that year (Marquee keeps one release date, so the two are one filter)."""
    years = {y for y in (year, primary_release_year) if y is not None}
    if len(years) > 1:
        return MovieFilters(impossible=True)
    return MovieFilters(year=years.pop() if years else None)


async def movie_matches(
    client: AsyncClient,
    settings: Settings,
    q: str,
    filters: MovieFilters | None,
    params: PageParams,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, this page's movie list items) of the movies whose titles match q."""
    found = await service.run_search(
        client, settings.MEILI_INDEX, q, filters or MovieFilters(), None, params, TITLES
    )
    image_base = settings.IMAGE_BASE_URL
    return found.total, [movie_item(list_item(hit, image_base)) for hit in found.hits]


async def people_matches(
    client: AsyncClient, settings: Settings, q: str, params: PageParams
) -> tuple[int, list[dict[str, Any]]]:
    """(total, this page's person items) of the people whose names match q."""
    total, hits = await service.people_hits(client, settings.people_index, q, params)
    return total, await person_items(client, settings, hits)


async def person_items(
    client: AsyncClient, settings: Settings, hits: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """People documents as TMDB's person items, `known_for` as full movie items."""
    wanted = sorted({movie["id"] for hit in hits for movie in hit.get("known_for") or ()})
    movies = await service.movie_items_by_id(
        client, settings.MEILI_INDEX, wanted, settings.IMAGE_BASE_URL
    )
    return [person_item(hit, _known_for(hit, movies)) for hit in hits]


def _known_for(hit: dict[str, Any], movies: dict[int, dict[str, Any]]) -> list[Mapping[str, Any]]:
    return [movies[m["id"]] for m in hit.get("known_for") or () if m["id"] in movies]


@dataclass
class PeopleWindow:
    total: int
    people: list[dict[str, Any]]


async def people_window(
    client: AsyncClient, settings: Settings, q: str, start: int, count: int
) -> PeopleWindow:
    """The people matching q from the `start`th, `count` of them (and how many match): read
    as the one or two index pages of 20 that hold them."""
    index = settings.people_index
    if count <= 0:  # the movies fill the page: only the count is needed
        total, _ = await service.people_hits(client, index, q, PageParams(1, 0))
        return PeopleWindow(total, [])
    first, skip = divmod(start, PAGE_SIZE)
    total, hits = await service.people_hits(client, index, q, PageParams(first + 1, PAGE_SIZE))
    if skip + count > PAGE_SIZE and len(hits) == PAGE_SIZE:
        more = PageParams(first + 2, PAGE_SIZE)
        hits += (await service.people_hits(client, index, q, more))[1]
    return PeopleWindow(total, await person_items(client, settings, hits[skip : skip + count]))
