"""The API's Meilisearch client: a search-only key, never the master key, however late it comes."""

import asyncio

from meilisearch_python_sdk import AsyncClient
from starlette.datastructures import State

from api.settings import Settings
from indexer import default_search_key, make_client


class SearchConnector:
    """Builds the API's search client into `state.meili` once it has a search-only key:
    MEILI_API_KEY as configured, else Meilisearch's default search key, read with the master
    key (which never searches). If Meilisearch was down at start-up, the first search or
    readiness check after it is back builds it; callers meanwhile share one attempt."""

    def __init__(self, settings: Settings, state: State) -> None:
        self._settings = settings
        self._state = state
        self._attempt: asyncio.Task[AsyncClient] | None = None

    async def connect(self) -> AsyncClient:
        """The client; SearchUnavailable or SearchFailed while no key can be had."""
        if self._attempt is None or _failed(self._attempt):
            self._attempt = asyncio.create_task(self._build())
        # Shielded: a request that gives up must not cancel the attempt others wait on.
        return await asyncio.shield(self._attempt)

    async def aclose(self) -> None:
        """Stop an attempt in flight, and close the client if one was built."""
        attempt, self._attempt = self._attempt, None
        if attempt is None:
            return
        attempt.cancel()
        await asyncio.wait([attempt])
        if not _failed(attempt):
            await attempt.result().aclose()

    async def _build(self) -> AsyncClient:
        settings = self._settings
        key = await _search_key(settings)
        client = make_client(settings.MEILI_URL, key, settings.MEILI_TIMEOUT_SECONDS)
        self._state.meili = client
        return client


async def _search_key(settings: Settings) -> str:
    if settings.MEILI_API_KEY or not settings.MEILI_MASTER_KEY:
        return settings.MEILI_API_KEY  # configured, or a Meilisearch without keys
    admin = make_client(
        settings.MEILI_URL, settings.MEILI_MASTER_KEY, settings.MEILI_TIMEOUT_SECONDS
    )
    try:
        return await default_search_key(admin)
    finally:
        await admin.aclose()


def _failed(attempt: asyncio.Task[AsyncClient]) -> bool:
    return attempt.done() and (attempt.cancelled() or attempt.exception() is not None)
