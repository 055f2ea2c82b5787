"""Searching and browsing movies: exact totals, facet counts and highlighted matches."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2
import orjson
from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.errors import MeilisearchApiError

from indexer.client import MeiliClient
from indexer.errors import translate_errors
from indexer.query import MovieFilters, SortSpec, build_filter, build_sort, ids_filter

# Index attribute -> the name the API reports the facet under.
FACETS = {"genres": "genres", "original_language": "language", "decade": "decade"}
HIGHLIGHTED = ["title", "cast"]
# Highlights are HTML, and stored text is not: Meilisearch marks matches with characters no
# catalog text holds (private use), the text is escaped, and only then do they become tags.
PRE_TAG, POST_TAG = "\ue000", "\ue001"
MARK, UNMARK = "<mark>", "</mark>"


@dataclass
class SearchPage:
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@translate_errors
async def search_movies(
    client: AsyncClient,
    uid: str,
    q: str,
    filters: MovieFilters | None,
    sort: SortSpec | None,
    page: int,
    per_page: int,
    retrieve: Sequence[str] | None = None,
    search_on: Sequence[str] | None = None,
) -> SearchPage:
    """One page of movies matching q (empty q: browse) and filters, with facets over the match.
    `retrieve`: the document fields to answer (the caller's rendering needs; all if None);
    `search_on`: the searchable attributes q is matched against (all of them if None)."""
    filters = filters or MovieFilters()
    if filters.impossible:
        return SearchPage(total=0, hits=[], facets=_facets(None))
    body = search_request(q, filters, sort, page, per_page, retrieve, search_on)
    results = await post_search(client, uid, body)
    return SearchPage(
        total=results.get("totalHits") or 0,
        hits=[_hit(raw) for raw in results["hits"]],
        facets=_facets(results.get("facetDistribution")),
    )


def search_request(
    q: str,
    filters: MovieFilters,
    sort: SortSpec | None,
    page: int,
    per_page: int,
    retrieve: Sequence[str] | None = None,
    search_on: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The body of Meilisearch's search request for one page (what the benchmarks send too)."""
    query = q.strip()
    body: dict[str, Any] = {
        "q": query,
        "page": page,
        "hitsPerPage": per_page,
        "facets": list(FACETS),
    }
    if retrieve is not None:  # cast too when searching: the names that matched are answered
        body["attributesToRetrieve"] = [*retrieve, "cast"] if query else list(retrieve)
    if expressions := build_filter(filters):
        body["filter"] = expressions
    if order := build_sort(sort):
        body["sort"] = order
    if query and search_on is not None:
        body["attributesToSearchOn"] = list(search_on)
    if query:
        body |= {
            "attributesToHighlight": HIGHLIGHTED,
            "highlightPreTag": PRE_TAG,
            "highlightPostTag": POST_TAG,
        }
    return body


async def post_search(client: AsyncClient, uid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The search request itself, answered as plain JSON: the SDK's typed results cost more
    than the search on a 40 KiB page. Errors still surface as the SDK's, for translate_errors."""
    path, content = f"indexes/{uid}/search", orjson.dumps(body)
    if isinstance(client, MeiliClient):
        status, answer = await client.post_search(path, content)
    else:  # a client not made by make_client
        headers = {"Content-Type": "application/json"}
        response = await client.http_client.post(path, content=content, headers=headers)
        status, answer = response.status_code, response.content
    if status >= 400:
        error = httpx2.Response(status, content=answer)
        raise MeilisearchApiError(f"search failed ({status})", error)
    results: dict[str, Any] = orjson.loads(answer)
    return results


@translate_errors
async def movies_by_id(
    client: AsyncClient, uid: str, movie_ids: Sequence[int], retrieve: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The documents of these movies (those the index holds), in no particular order."""
    if not movie_ids:
        return []
    body: dict[str, Any] = {"q": "", "filter": [ids_filter(movie_ids)], "limit": len(movie_ids)}
    if retrieve is not None:
        body["attributesToRetrieve"] = list(retrieve)
    hits: list[dict[str, Any]] = (await post_search(client, uid, body))["hits"]
    return hits


def _hit(raw: dict[str, Any]) -> dict[str, Any]:
    """The stored document plus the highlighted title and the cast names that matched."""
    formatted = raw.pop("_formatted", None) or {}
    raw.pop("_matchesPosition", None)
    title = raw.get("title") or ""
    cast = raw.get("cast") or []
    marked = formatted.get("cast") or cast
    # Highlighting only inserts markers, so a name that changed is a name that matched.
    matched = [
        _html(plain, shown) for plain, shown in zip(cast, marked, strict=False) if shown != plain
    ]
    raw["highlights"] = {"title": _html(title, formatted.get("title", title)), "cast": matched}
    return raw


def _html(plain: str, marked: str) -> str:
    """marked (plain with Meilisearch's markers) as HTML: the text escaped, the markers tags."""
    if _unmarked(marked) != plain:
        # The stored text holds a marker itself: no marks at all, so it cannot forge one.
        return html.escape(_unmarked(plain), quote=True)
    return html.escape(marked, quote=True).replace(PRE_TAG, MARK).replace(POST_TAG, UNMARK)


def _unmarked(text: str) -> str:
    return text.replace(PRE_TAG, "").replace(POST_TAG, "")


def _facets(distribution: dict[str, Any] | None) -> dict[str, dict[str, int]]:
    distribution = distribution or {}
    return {name: dict(distribution.get(attr) or {}) for attr, name in FACETS.items()}
