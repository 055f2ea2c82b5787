"""Building the Meilisearch client, and the keys the API needs from it."""

from __future__ import annotations

import httpx2
from meilisearch_python_sdk import AsyncClient

from indexer.errors import SearchFailed, translate_errors
from indexer.transport import SearchTransport

# httpx asks for gzip by default; Meilisearch then streams a compressed, chunked answer that
# meets the client's delayed ACK and stalls each keep-alive request by ~40 ms.
NO_COMPRESSION = {"Accept-Encoding": "identity"}
SEARCH_KEY_NAME = "Default Search API Key"


def make_client(url: str, api_key: str | None, timeout: float = 5.0) -> AsyncClient:
    """A client for url whose requests give up after timeout seconds (connect: at most 1 s)."""
    client = AsyncClient(url, api_key, custom_headers=dict(NO_COMPRESSION))
    http = client.http_client
    http.timeout = httpx2.Timeout(timeout, connect=min(timeout, 1.0))
    # The SDK builds its httpx client itself; searches get our one-write transport.
    http._transport = SearchTransport(http._transport)
    return client


@translate_errors
async def default_search_key(client: AsyncClient) -> str:
    """The key of Meilisearch's "Default Search API Key", for searching with least privilege."""
    offset, page_size = 0, 100
    while True:
        keys = await client.get_keys(offset=offset, limit=page_size)
        for key in keys.results:
            if key.name == SEARCH_KEY_NAME:
                return key.key
        offset += page_size
        if offset >= keys.total:
            raise SearchFailed(f"no {SEARCH_KEY_NAME!r} on this Meilisearch")
