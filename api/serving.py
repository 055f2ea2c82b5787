"""uvicorn's httptools protocol with the two limits it lacks, for every serving command
(`make run`, the Procfile, compose, the image): a request head (request line and headers) over
a size limit answers 431, and a connection that has not sent a whole head within the
keep-alive timeout, whether idle since it connected, idle between requests or trickling its
headers, is closed. uvicorn itself closes only connections idle after a response, and with
httptools buffers a head of any size (h11 has a limit, and halves cached throughput).

The limits are uvicorn's own options: `--timeout-keep-alive`, and h11's head limit
`--h11-max-incomplete-event-size`, which this protocol honours too. Built on uvicorn 0.54's
HttpToolsProtocol (pinned in requirements.lock); tests/api/test_edges.py runs the Procfile's
command to hold it to both limits."""

import asyncio
import json
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from api.errors import error_body

PROTOCOL = "api.serving:GuardedHttpTools"
HEAD_TIMEOUT_SECONDS = 5
MAX_HEAD_BYTES = 16 * 1024  # h11's default, nginx's 2 x 8 KiB
# Past this many connections and requests at once, a process answers 503 rather than run out
# of file descriptors (1024 by default) with its database and Redis connections.
MAX_CONCURRENCY = 900
# What every serving command passes to uvicorn (tests/api/test_edges.py checks each file).
UVICORN_OPTIONS = (
    "--http", PROTOCOL,
    "--timeout-keep-alive", str(HEAD_TIMEOUT_SECONDS),
    "--h11-max-incomplete-event-size", str(MAX_HEAD_BYTES),
    "--limit-concurrency", str(MAX_CONCURRENCY),
)  # fmt: skip

# After a 431 sent while the head still arrives, what the client goes on sending is read and
# dropped, up to these, before the connection closes: closed with unread bytes, the socket
# would send a reset, and the client would lose the answer (a lingering close, as nginx's).
DRAIN_BYTES = 4 * 1024 * 1024
DRAIN_SECONDS = 2.0
_DETAIL = "Request headers too large: the limit is {} bytes"


def _refusal(limit: int) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The 431's body and headers."""
    content = json.dumps(error_body(_DETAIL.format(limit), "request_header_fields_too_large"))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"connection", b"close"),
    ]
    return content.encode(), headers


class GuardedHttpTools(HttpToolsProtocol):
    """HttpToolsProtocol whose keep-alive deadline also runs from the connection's start and
    while a head arrives (uvicorn drops it at the first byte), and that counts a head's bytes."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_head = config.h11_max_incomplete_event_size or MAX_HEAD_BYTES
        self.refusal = _refusal(self.max_head)
        self.reading_head = True  # the bytes coming are a request head's
        self.head_bytes = 0  # received since that head began (and, in its last read, after)
        self.draining: int | None = None  # after a 431: how many more bytes to drop

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def _unset_keepalive_if_required(self) -> None:
        # uvicorn calls this on every read: a head still coming keeps its deadline.
        if not self.reading_head:
            super()._unset_keepalive_if_required()

    def connection_lost(self, exc: Exception | None) -> None:
        self.reading_head = False  # so that uvicorn cancels the deadline
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.draining is not None:
            self.draining -= len(data)
            if self.draining < 0:
                self.transport.close()
            return
        if self.reading_head:
            self.head_bytes += len(data)
        super().data_received(data)
        over = self.reading_head and self.head_bytes > self.max_head
        if over and not self.transport.is_closing():
            self._refuse_unread_head()

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self._unset_keepalive_if_required()
        # Only a head whose reads passed the limit is measured: those reads may hold body too.
        if self.head_bytes > self.max_head and self._head_size() > self.max_head:
            app, self.app = self.app, self._refuse_read_head
            try:
                super().on_headers_complete()
            finally:
                self.app = app
        else:
            super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.reading_head, self.head_bytes = True, 0
        if self.cycle.response_complete and self.timeout_keep_alive_task is None:
            self._arm()  # answered before its body ended (413, 431): idle from now on

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _refuse_unread_head(self) -> None:
        """A head still arriving past the limit: answer 431, parse no more, and close once
        the client has closed or stopped sending (DRAIN_BYTES, DRAIN_SECONDS)."""
        content, headers = self.refusal
        head = b"".join(b"%s: %s\r\n" % header for header in headers)
        status = b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        self.transport.write(status + head + b"\r\n" + content)
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the answer is all: the client may read it and close
        self.draining, self.reading_head = DRAIN_BYTES, False
        self._unset_keepalive_if_required()
        self.timeout_keep_alive_task = self.loop.call_later(
            DRAIN_SECONDS, self.timeout_keep_alive_handler
        )

    async def _refuse_read_head(self, scope: Any, receive: Any, send: Any) -> None:
        """A whole head past the limit, answered through uvicorn as an ASGI app would."""
        content, headers = self.refusal
        await send({"type": "http.response.start", "status": 431, "headers": headers})
        await send({"type": "http.response.body", "body": content})
