"""Searching and browsing movies: exact totals, facet counts and highlighted matches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meilisearch_python_sdk import AsyncClient

from indexer.errors import translate_errors
from indexer.query import MovieFilters, SortSpec, build_filter, build_sort

# Index attribute -> the name the API reports the facet under.
FACETS = {"genres": "genres", "original_language": "language", "decade": "decade"}
HIGHLIGHTED = ["title", "cast"]
# What a result renders: the document less the ids lists and search-only fields, so answers
# stay small (a full cast's ids and directors roughly doubled them) and decode faster.
RETRIEVED = [
    "id", "title", "original_title", "overview", "tagline", "genres", "genre_ids",
    "original_language", "release_date_iso", "runtime", "status", "poster_path",
    "backdrop_path", "popularity", "vote_average", "vote_count", "created_at", "updated_at",
]  # fmt: skip
PRE_TAG, POST_TAG = "<mark>", "</mark>"


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
) -> SearchPage:
    """One page of movies matching q (empty q: browse) and filters, with facets over the match."""
    filters = filters or MovieFilters()
    if filters.impossible:
        return SearchPage(total=0, hits=[], facets=_facets(None))
    query = q.strip()
    expressions: list[str | list[str]] = [*build_filter(filters)]
    results = await client.index(uid).search(
        query,
        page=page,
        hits_per_page=per_page,
        filter=expressions or None,
        sort=build_sort(sort) or None,
        facets=list(FACETS),
        attributes_to_retrieve=[*RETRIEVED, "cast"] if query else RETRIEVED,
        attributes_to_highlight=HIGHLIGHTED if query else None,
        highlight_pre_tag=PRE_TAG,
        highlight_post_tag=POST_TAG,
    )
    return SearchPage(
        total=results.total_hits or 0,
        hits=[_hit(raw) for raw in results.hits],
        facets=_facets(results.facet_distribution),
    )


def _hit(raw: dict[str, Any]) -> dict[str, Any]:
    """The stored document plus the highlighted title and the cast names that matched."""
    formatted = raw.pop("_formatted", None) or {}
    raw.pop("_matchesPosition", None)
    cast = raw.get("cast") or []
    marked = formatted.get("cast") or cast
    # Highlighting only inserts tags, so a name that changed is a name that matched.
    matched = [shown for plain, shown in zip(cast, marked, strict=False) if shown != plain]
    raw["highlights"] = {"title": formatted.get("title", raw.get("title")), "cast": matched}
    return raw


def _facets(distribution: dict[str, Any] | None) -> dict[str, dict[str, int]]:
    distribution = distribution or {}
    return {name: dict(distribution.get(attr) or {}) for attr, name in FACETS.items()}
