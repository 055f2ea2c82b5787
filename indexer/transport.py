"""Search requests in one write: an httpx transport for the API's hot Meilisearch call.

httpx writes a request's head and body separately, and each write wakes Meilisearch; on this
2-core machine that cost ~0.8 ms of a ~4 ms search. This transport sends `POST .../search`
requests whole over kept-alive connections and reads the answer itself; every other request goes
through httpx's own transport. `post_search` skips httpx altogether (building its request and
response cost as much again as the transport's own work). Searches are read-only, so one on a
connection the server had closed while it sat idle is simply sent again on a new one.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque

import httpx2

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
MAX_IDLE = 16


class SearchTransport(httpx2.AsyncBaseTransport):
    def __init__(self, fallback: httpx2.AsyncBaseTransport, max_idle: int = MAX_IDLE) -> None:
        self.fallback = fallback
        self.max_idle = max_idle
        self._idle: deque[Connection] = deque()
        # path -> its URL and request head up to the Content-Length (see post_search)
        self._heads: dict[str, tuple[httpx2.URL, bytes]] = {}

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "POST" or not request.url.path.endswith("/search"):
            return await self.fallback.handle_async_request(request)
        payload = _head(request) + await request.aread()
        limit = _limit(request.extensions.get("timeout", {}))
        status, headers, body = await self._roundtrip(request.url, payload, limit, request)
        return httpx2.Response(status, headers=headers, content=body, request=request)

    async def post_search(
        self, http: httpx2.AsyncClient, path: str, body: bytes
    ) -> tuple[int, bytes]:
        """POST a JSON body to `path` under `http`'s base URL, with its headers and timeout,
        answering the status and the body. The head is built by httpx once per path."""
        if (prepared := self._heads.get(path)) is None:
            request = http.build_request("POST", path, headers={"Content-Type": "application/json"})
            prepared = self._heads[path] = (request.url, _head(request, length=False))
        url, head = prepared
        payload = b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body)
        status, _, answer = await self._roundtrip(url, payload, _limit(http.timeout.as_dict()))
        return status, answer

    async def _roundtrip(
        self,
        url: httpx2.URL,
        payload: bytes,
        limit: float | None,
        request: httpx2.Request | None = None,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        try:
            async with asyncio.timeout(limit):
                return await self._exchange(url, payload)
        except TimeoutError:
            raise httpx2.ReadTimeout(
                "meilisearch did not answer in time", request=request
            ) from None
        except (OSError, EOFError, asyncio.LimitOverrunError, ValueError) as exc:
            raise httpx2.ConnectError(f"search request failed: {exc!r}", request=request) from exc

    async def _exchange(
        self, url: httpx2.URL, payload: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        while self._idle:
            conn = self._idle.pop()
            try:
                return await self._send(conn, payload)
            except (OSError, EOFError):
                continue  # closed by the server while idle: try the next, then a new one
        return await self._send(await _connect(url), payload)

    async def _send(
        self, conn: Connection, payload: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        reader, writer = conn
        try:
            writer.write(payload)
            status, headers, body, keep = await _read_response(reader)
        except BaseException:
            writer.close()
            raise
        if keep and len(self._idle) < self.max_idle:
            self._idle.append(conn)
        else:
            writer.close()
        return status, headers, body

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop()[1].close()
        await self.fallback.aclose()


def _limit(timeouts: dict[str, float | None]) -> float | None:
    return max((t for t in timeouts.values() if t is not None), default=None)


def _head(request: httpx2.Request, length: bool = True) -> bytes:
    """The request line and headers; without `length`, no Content-Length and no blank line
    (the caller adds both)."""
    lines = [b"POST " + request.url.raw_path + b" HTTP/1.1"]
    lines += [
        name + b": " + value
        for name, value in request.headers.raw
        if length or name.lower() != b"content-length"
    ]
    return b"\r\n".join(lines) + (b"\r\n\r\n" if length else b"\r\n")


async def _connect(url: httpx2.URL) -> Connection:
    secure = url.scheme == "https"
    port = url.port or (443 if secure else 80)
    context = ssl.create_default_context() if secure else None
    return await asyncio.open_connection(url.host, port, ssl=context)


async def _read_response(
    reader: asyncio.StreamReader,
) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
    """Status, headers, body and whether the connection can be reused."""
    lines = (await reader.readuntil(b"\r\n\r\n"))[:-4].split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = [
        (name.strip(), value.strip()) for name, value in (h.split(b":", 1) for h in lines[1:])
    ]
    fields = {name.lower(): value.lower() for name, value in headers}
    keep = fields.get(b"connection") != b"close"
    if b"content-length" in fields:
        body = await reader.readexactly(int(fields[b"content-length"]))
    elif fields.get(b"transfer-encoding") == b"chunked":
        body = await _read_chunks(reader)
    else:
        body, keep = await reader.read(), False
    # The body is handed over decoded: httpx must not try to decode it again.
    headers = [(n, v) for n, v in headers if n.lower() != b"transfer-encoding"]
    return status, headers, body, keep


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        parts.append((await reader.readexactly(size + 2))[:-2])
    while await reader.readuntil(b"\r\n") != b"\r\n":
        pass  # trailers
    return b"".join(parts)
