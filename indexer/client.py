"""Building the Meilisearch client, and the keys the API needs from it."""

from __future__ import annotations

import asyncio
import urllib.request
from urllib.parse import urlsplit

import httpx2
from meilisearch_python_sdk import AsyncClient

from indexer.errors import SearchFailed, translate_errors
from indexer.transport import MAX_CONNECTIONS, SearchPool

# httpx asks for gzip by default; Meilisearch then streams a compressed, chunked answer that
# meets the client's delayed ACK and stalls each keep-alive request by ~40 ms.
NO_COMPRESSION = {"Accept-Encoding": "identity"}
JSON = {"Content-Type": "application/json"}
SEARCH_KEY_NAME = "Default Search API Key"


class MeiliClient(AsyncClient):
    """The SDK's client, with a connection pool of its own for searches (`searches`, see
    indexer.transport): the SDK takes no transport, and its httpx2 client adds ~1 ms to each.
    `searches` is None where the environment names a proxy for the URL: searches then go
    through the SDK's httpx2 client, which knows how to use one."""

    def __init__(self, url: str, api_key: str | None, timeout: float, max_connections: int):
        super().__init__(url, api_key, custom_headers=dict(NO_COMPRESSION))
        self.http_client.timeout = httpx2.Timeout(timeout, connect=min(timeout, 1.0))
        self.search_timeout = timeout
        self.searches: SearchPool | None = None
        if not _proxied(url):
            headers = {**JSON, **NO_COMPRESSION}
            if api_key:
                headers["Authorization"] = f"Bearer {api_key}"
            https = urlsplit(url).scheme == "https"
            self.searches = SearchPool(
                url,
                headers,
                timeout,
                max_connections=max_connections,
                # The very TLS settings of the SDK's httpx client (SSL_CERT_FILE, SSL_CERT_DIR).
                ssl_context=httpx2.create_ssl_context() if https else None,
            )

    async def post_search(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST a JSON search body to path; (status, body) within the timeout, or TimeoutError,
        OSError or httpx2's errors."""
        if self.searches is not None:
            return await self.searches.post(path, body)
        async with asyncio.timeout(self.search_timeout):  # httpx's timeouts are per step
            response = await self.http_client.post(path, content=body, headers=JSON)
        return response.status_code, response.content

    async def aclose(self) -> None:
        try:
            if self.searches is not None:
                await self.searches.aclose()
        finally:
            await super().aclose()


def make_client(
    url: str, api_key: str | None, timeout: float = 5.0, *, max_connections: int = MAX_CONNECTIONS
) -> MeiliClient:
    """A client for url whose requests give up after timeout seconds (connect: at most 1 s);
    searches hold at most max_connections connections (more wait for one, within timeout)."""
    return MeiliClient(url, api_key, timeout, max_connections)


def _proxied(url: str) -> bool:
    """Whether HTTP_PROXY, HTTPS_PROXY or ALL_PROXY (less NO_PROXY) apply to url."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.netloc)


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
