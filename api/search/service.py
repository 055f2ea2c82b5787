"""Search decisions: asking the index, and turning its documents into the public shapes."""

import logging
from typing import Any

from meilisearch_python_sdk import AsyncClient

from api.errors import ServiceUnavailable
from api.movies.present import poster_url
from api.movies.schemas import MovieListItem
from api.pagination import PageParams
from api.search.schemas import Facets, Highlights, SearchResult
from indexer import SearchFailed, SearchPage, SearchUnavailable, search_movies
from indexer.query import MovieFilters, SortSpec

log = logging.getLogger(__name__)

EMPTY = SearchPage(total=0, hits=[], facets={})


async def run_search(
    client: AsyncClient,
    index: str,
    q: str,
    filters: MovieFilters,
    sort: SortSpec | None,
    params: PageParams,
) -> SearchPage:
    if filters.impossible:
        return EMPTY
    try:
        return await search_movies(client, index, q, filters, sort, params.page, params.per_page)
    except (SearchUnavailable, SearchFailed) as exc:
        log.warning("search failed: %s", exc)
        raise ServiceUnavailable(
            "Search is temporarily unavailable; please try again shortly", "search_unavailable"
        ) from exc


def facets(page: SearchPage) -> Facets:
    return Facets.model_validate(page.facets)


def list_item(hit: dict[str, Any], image_base: str) -> MovieListItem:
    return MovieListItem.model_validate(_fields(hit, image_base))


def search_result(hit: dict[str, Any], image_base: str) -> SearchResult:
    highlights = Highlights.model_validate(hit.get("highlights") or {"title": hit["title"]})
    return SearchResult.model_validate({**_fields(hit, image_base), "highlights": highlights})


def _fields(hit: dict[str, Any], image_base: str) -> dict[str, Any]:
    genres = [
        {"id": gid, "name": name}
        for gid, name in zip(hit["genre_ids"], hit["genres"], strict=False)
    ]
    return {
        **{k: hit.get(k) for k in MovieListItem.model_fields if k in hit},
        "genres": genres,
        "release_date": hit.get("release_date_iso"),
        "poster_url": poster_url(image_base, hit.get("poster_path")),
    }
