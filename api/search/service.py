"""Search decisions: asking the index, and turning its documents into the public shapes."""

import html
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from meilisearch_python_sdk import AsyncClient

from api.errors import ServiceUnavailable
from api.pagination import PageParams
from api.search.client import SearchConnector
from api.search.documents import RETRIEVED, list_item
from api.search.schemas import Facets
from indexer import SearchFailed, SearchPage, SearchUnavailable, search_movies
from indexer.people import search_people
from indexer.query import MovieFilters, SortSpec
from indexer.search import movies_by_id

log = logging.getLogger(__name__)

EMPTY = SearchPage(total=0, hits=[], facets={})


async def run_search(
    client: AsyncClient,
    index: str,
    q: str,
    filters: MovieFilters,
    sort: SortSpec | None,
    params: PageParams,
    search_on: Sequence[str] | None = None,
) -> SearchPage:
    """`search_on`: the attributes q is matched against (all the searchable ones if None)."""
    if filters.impossible:
        return EMPTY
    try:
        return await search_movies(
            client, index, q, filters, sort, params.page, params.per_page, RETRIEVED, search_on
        )
    except (SearchUnavailable, SearchFailed) as exc:
        raise _unavailable(exc) from exc


async def connect(search: SearchConnector) -> AsyncClient:
    """The client start-up could not build (Meilisearch was down then): built now, or a 503."""
    try:
        return await search.connect()
    except (SearchUnavailable, SearchFailed) as exc:
        raise _unavailable(exc) from exc


async def search_people_page(client: AsyncClient, index: str, q: str, params: PageParams) -> bytes:
    """The JSON of a page of people matching q (see indexer.people.search_people)."""
    total, hits = await people_hits(client, index, q, params)
    # Written straight from the documents, as search pages are: they hold exactly a
    # PersonListItem's fields (indexer.people.person_document, from validated rows); JSON may
    # hold a whole popularity as an integer.
    people = [{**hit, "popularity": float(hit["popularity"])} for hit in hits]
    return orjson.dumps(_envelope(params, total, people))


async def people_hits(
    client: AsyncClient, index: str, q: str, params: PageParams
) -> tuple[int, list[dict[str, Any]]]:
    """(total, documents) of a page of people matching q (see indexer.people.search_people)."""
    try:
        return await search_people(client, index, q, params.page, params.per_page)
    except (SearchUnavailable, SearchFailed) as exc:
        raise _unavailable(exc) from exc


async def movie_items_by_id(
    client: AsyncClient, index: str, movie_ids: Sequence[int], image_base: str
) -> dict[int, dict[str, Any]]:
    """These movies' list items (as search results write them) by id, from the index: the
    ones it holds."""
    try:
        hits = await movies_by_id(client, index, movie_ids, RETRIEVED)
    except (SearchUnavailable, SearchFailed) as exc:
        raise _unavailable(exc) from exc
    return {hit["id"]: list_item(hit, image_base) for hit in hits}


def _unavailable(exc: Exception) -> ServiceUnavailable:
    log.warning("search failed: %s", exc)
    return ServiceUnavailable(
        "Search is temporarily unavailable; please try again shortly", "search_unavailable"
    )


def page_json(params: PageParams, page: SearchPage, results: list[dict[str, Any]]) -> bytes:
    """The JSON of a SearchPage/FilterPage, written straight from the index's documents: they
    were built from validated rows, and validating them again cost more than the search."""
    facets = {name: page.facets.get(name, {}) for name in Facets.model_fields}
    return orjson.dumps({**_envelope(params, page.total, results), "facets": facets})


def _envelope(params: PageParams, total: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "page": params.page,
        "per_page": params.per_page,
        "total_results": total,
        "total_pages": (total + params.per_page - 1) // params.per_page,
        "results": results,
    }


def search_result(hit: dict[str, Any], image_base: str) -> dict[str, Any]:
    """A SearchResult's fields: the list item and what matched (HTML, escaped by the indexer)."""
    highlights = hit.get("highlights") or {}
    return {
        **list_item(hit, image_base),
        "highlights": {
            "title": highlights.get("title") or html.escape(hit["title"], quote=True),
            "cast": highlights.get("cast", []),
        },
    }
