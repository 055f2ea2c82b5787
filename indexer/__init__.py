"""Meilisearch library for the movie catalog: documents, settings, sync, rebuild and search."""

from indexer.client import default_search_key, make_client
from indexer.documents import MovieSource, to_document
from indexer.errors import SearchFailed, SearchUnavailable
from indexer.query import MovieFilters, SortField, SortSpec, build_filter, build_sort
from indexer.rebuild import drop_stale_builds, rebuild
from indexer.search import SearchPage, search_movies
from indexer.settings import SETTINGS, ensure_settings
from indexer.sorting import title_sort_key
from indexer.sync import apply, delete, upsert

__all__ = [
    "SETTINGS",
    "MovieFilters",
    "MovieSource",
    "SearchFailed",
    "SearchPage",
    "SearchUnavailable",
    "SortField",
    "SortSpec",
    "apply",
    "build_filter",
    "build_sort",
    "default_search_key",
    "delete",
    "drop_stale_builds",
    "ensure_settings",
    "make_client",
    "rebuild",
    "search_movies",
    "title_sort_key",
    "to_document",
    "upsert",
]
