"""The API's search requests: a bounded pool of kept-alive HTTP/1.1 connections to Meilisearch,
each request sent in one write and each answer parsed by httptools (llhttp, Node.js's parser).

The SDK takes no transport of its own, and its httpx2 client added ~1 ms to a search's p50 and
~0.8 ms of CPU (`bench/results/transport.md`): alone enough to put the API's uncached search past
1.3x Meilisearch's own time. Only searches come here: they are read-only, so one that meets a
connection closed before any answer is sent once more on a new connection. Answers may be chunked
and compressed (gzip, deflate) although we ask for none. Every search, waiting for a connection
included, ends within the timeout: TimeoutError then, OSError for what the network or the answer
did; `indexer.errors` translates both.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import deque
from collections.abc import Mapping
from typing import cast
from urllib.parse import urlsplit

import httptools

MAX_CONNECTIONS = 32
MAX_ANSWER_BYTES = 64 * 2**20
MAX_PATHS = 64  # request heads kept (one per index searched)
# zlib's wbits per content coding (31: a gzip wrapper; 15: a zlib wrapper, what HTTP's
# "deflate" names)
CODINGS = {b"gzip": 31, b"x-gzip": 31, b"deflate": 15}


class Closed(ConnectionError):
    """The connection ended before any of the answer arrived."""


class BadAnswer(ConnectionError):
    """The answer broke HTTP/1.1 (or came cut short, or in a coding we cannot read)."""


class SearchPool:
    """POSTs JSON bodies to paths under `url` with `headers`, at most `max_connections` at once
    (more wait their turn), each within `timeout` seconds; answers (status, body)."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str],
        timeout: float,
        *,
        max_connections: int = MAX_CONNECTIONS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.timeout = timeout
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = None
        if parts.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        self._prefix = parts.path.rstrip("/")
        lines = {"Host": parts.netloc.rpartition("@")[2], **headers}
        for name, value in lines.items():
            if any(c in name + value for c in "\r\n\0"):
                raise ValueError(f"header {name!r} holds a line break")
        self._head = "".join(f"{n}: {v}\r\n" for n, v in lines.items()).encode("latin-1")
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: deque[_Connection] = deque()
        self._open: set[_Connection] = set()
        self._requests: dict[str, bytes] = {}  # path -> request line and headers, built once

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        start = self._requests.get(path) or self._request_head(path)
        payload = b"%sContent-Length: %d\r\n\r\n%s" % (start, len(body), body)
        try:
            async with asyncio.timeout(self.timeout), self._slots:
                try:
                    return await self._exchange(payload, self._reusable())
                except Closed:
                    return await self._exchange(payload, None)
        except TimeoutError:
            raise TimeoutError(f"no answer within {self.timeout:g} s") from None

    async def aclose(self) -> None:
        """Close every connection, idle or busy (a busy one's search fails with Closed)."""
        self._idle.clear()
        for conn in list(self._open):
            conn.close()

    def _request_head(self, path: str) -> bytes:
        target = f"{self._prefix}/{path.lstrip('/')}"
        if any(c in target for c in " \r\n\0"):
            raise ValueError(f"not a request target: {target!r}")
        head = b"POST %s HTTP/1.1\r\n%s" % (target.encode(), self._head)
        if len(self._requests) < MAX_PATHS:
            self._requests[path] = head
        return head

    def _reusable(self) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
        return None

    async def _exchange(self, payload: bytes, conn: _Connection | None) -> tuple[int, bytes]:
        if conn is None:
            conn = await self._connect()
        try:
            answer = await conn.roundtrip(payload)
        except BaseException:
            conn.close()  # its state is unknown (a timeout, a cancelled request): never reused
            raise
        if not conn.closed:
            self._idle.append(conn)
        return answer

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(
            lambda: _Connection(self._open),
            self._host,
            self._port,
            ssl=self._ssl,
            server_hostname=self._host if self._ssl else None,
        )
        return protocol


class _Connection(asyncio.Protocol):
    """One connection: a request at a time, its answer read by the httptools callbacks."""

    def __init__(self, registry: set[_Connection]) -> None:
        self._registry = registry
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self._received = False
        self._headers_done = False
        self._framed = False  # Content-Length or chunked: else the answer ends with the connection
        self._codings: list[bytes] = []
        self._parts: list[bytes] = []
        self._size = 0
        self._keep_alive = False

    async def roundtrip(self, payload: bytes) -> tuple[int, bytes]:
        if self.closed or self._transport is None:
            raise Closed("connection closed")
        self._reset()
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(payload)
        return await self._waiter

    def close(self) -> None:
        self.closed = True
        self._registry.discard(self)
        if self._transport is not None:
            self._transport.close()

    # asyncio's callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._registry.add(self)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.close()  # nothing was asked: the connection is out of step
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, BadAnswer) as exc:
            self._fail(BadAnswer(f"unreadable answer: {exc}"))

    def eof_received(self) -> bool:
        if self._headers_done and not self._framed:
            self._complete()  # an answer without length ends where the connection does
        self._fail(BadAnswer("answer cut short") if self._received else Closed("closed unanswered"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        cls = BadAnswer if self._received else Closed
        self._fail(cls(f"connection lost: {exc!r}"))

    def _fail(self, exc: ConnectionError) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        self.close()

    # httptools' callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-length":
            self._framed = True
        elif name in (b"transfer-encoding", b"content-encoding"):
            codings = [c.strip().lower() for c in value.split(b",")]
            self._framed |= b"chunked" in codings
            self._codings += [c for c in codings if c not in (b"chunked", b"identity", b"")]

    def on_headers_complete(self) -> None:
        self._headers_done = True
        self._keep_alive = self._parser.should_keep_alive()
        if unknown := [c for c in self._codings if c not in CODINGS]:
            raise BadAnswer(f"unknown codings {unknown}")

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > MAX_ANSWER_BYTES:
            raise BadAnswer(f"answer over {MAX_ANSWER_BYTES} bytes")
        self._parts.append(body)

    def on_message_complete(self) -> None:
        if self._parser.get_status_code() < 200:
            self._reset()  # an interim answer (100 Continue): the real one follows
            return
        self._complete()
        if not self._keep_alive:
            self.close()

    def _complete(self) -> None:
        if self._waiter is None or self._waiter.done():
            return
        body = b"".join(self._parts)
        try:
            for coding in reversed(self._codings):  # applied in order, undone in reverse
                body = zlib.decompress(body, wbits=CODINGS[coding])
        except zlib.error as exc:
            self._waiter.set_exception(BadAnswer(f"undecodable answer: {exc}"))
            return
        self._waiter.set_result((self._parser.get_status_code(), body))
