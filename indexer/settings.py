"""The one definition of the movie index's settings, applied only when the live index drifts."""

from __future__ import annotations

from typing import Any

from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.errors import MeilisearchApiError
from meilisearch_python_sdk.models.settings import MeilisearchSettings

from indexer.errors import SearchFailed, translate_errors
from indexer.tasks import wait_for

PRIMARY_KEY = "id"
# Reindexing a large index after a settings change can take minutes.
SETTINGS_TIMEOUT = 600.0

# Relevance first (an explicit sort before it), then the most popular; id:asc last makes the
# order total across pages. Both indexes rank this way.
RANKING_RULES = [
    "sort",
    "words",
    "typo",
    "proximity",
    "attribute",
    "exactness",
    "popularity:desc",
    "id:asc",
]

# Looser than Meilisearch's defaults (one typo from 5 letters, two from 9), which miss
# "Ineptien" for Inception and "Hanx" for Hanks: measured by bench/recall_bench.py
# (results/recall.md); two typos from 6 found a little more but matched far more noise on
# 6-letter words. Titles and names alike.
TYPO_TOLERANCE = {"enabled": True, "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 7}}

# In Meilisearch's wire format (camelCase), so it compares directly with what the server reports.
SETTINGS: dict[str, Any] = {
    # Order is deliberate: the attribute rule ranks a match in the title above one in the overview.
    "searchableAttributes": [
        "title",
        "original_title",
        "cast",
        "directors",
        "crew",
        "genres",
        "keywords",
        "companies",
        "overview",
    ],
    "filterableAttributes": [
        "genre_ids",
        "genres",
        "original_language",
        "release_date",
        "year",
        "decade",
        "vote_average",
        "vote_count",
        "cast_ids",
        "director_ids",
        "crew_ids",
        "keyword_ids",
        "company_ids",
        "runtime",
        "id",
    ],
    # A title sort uses sort_title, folded exactly like the database's column.
    "sortableAttributes": [
        "popularity",
        "vote_average",
        "vote_count",
        "release_date",
        "title",
        "sort_title",
        "revenue",
        "runtime",
        "id",
    ],
    # An explicit sort_by orders the whole match (sort first; without sort_by it is a no-op).
    "rankingRules": RANKING_RULES,
    "typoTolerance": TYPO_TOLERANCE,
    # The default (1000) caps totals; exact counts are part of the API's contract.
    "pagination": {"maxTotalHits": 2_000_000},
    "faceting": {"maxValuesPerFacet": 200},
}
# The people index: names, typo-tolerant and as-you-type; the most popular first among equal
# matches; popular people answered by a sort.
PEOPLE_SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["name"],
    "filterableAttributes": ["id"],
    "sortableAttributes": ["popularity", "id"],
    "rankingRules": RANKING_RULES,
    "typoTolerance": TYPO_TOLERANCE,
    "pagination": {"maxTotalHits": 2_000_000},
}
UNORDERED = frozenset({"filterableAttributes", "sortableAttributes"})


@translate_errors
async def ensure_settings(
    client: AsyncClient, uid: str, settings: dict[str, Any] | None = None
) -> bool:
    """Create the index if missing and bring its settings (the movie index's unless given) in
    line; True if anything changed."""
    settings = SETTINGS if settings is None else settings
    created = await ensure_index(client, uid)
    live = await client.index(uid).get_settings()
    if not drifted(live.model_dump(by_alias=True, mode="json"), settings):
        return created
    task = await client.index(uid).update_settings(MeilisearchSettings.model_validate(settings))
    await wait_for(client, task, max_wait=SETTINGS_TIMEOUT)
    return True


@translate_errors
async def ensure_index(client: AsyncClient, uid: str) -> bool:
    """Create the index (primary key "id") unless it exists; True if it was created."""
    if await index_exists(client, uid):
        return False
    # The SDK waits for the creation; a lost race with another creator still leaves the index.
    await client.create_index(uid, primary_key=PRIMARY_KEY, timeout_in_ms=30_000)
    if not await index_exists(client, uid):
        raise SearchFailed(f"index {uid!r} was not created")
    return True


async def index_exists(client: AsyncClient, uid: str) -> bool:
    try:
        await client.index(uid).fetch_info()
    except MeilisearchApiError as err:
        if err.code == "index_not_found":
            return False
        raise
    return True


def drifted(live: dict[str, Any], settings: dict[str, Any] | None = None) -> bool:
    """True when the live settings (wire format) differ from the code's (the movie index's
    unless given) anywhere the code's speak."""
    wanted = SETTINGS if settings is None else settings
    return any(not _same(key, live.get(key), want) for key, want in wanted.items())


def _same(key: str, have: Any, want: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_same(k, have.get(k), v) for k, v in want.items())
    if key in UNORDERED and isinstance(have, list):
        return set(have) == set(want)
    return bool(have == want)
