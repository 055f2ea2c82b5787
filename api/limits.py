"""The request body limit: a body over MAX_BODY_BYTES answers 413 before anything parses it."""

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

# A refused body of a declared length up to this is read and discarded after the 413, so the
# client, still sending, gets the answer; a longer one, or a chunked one, closes the connection.
DISCARD_BYTES = 64 * 1024 * 1024


class BodyTooLarge(HTTPException):
    """An HTTPException because FastAPI passes those on while it reads a body (it turns any
    other error there into a 400); the app's handler renders it as {detail, code}."""

    def __init__(self, limit: int, close: bool = True) -> None:
        # With "close", the server stops reading: a client still sending may then meet a reset
        # instead of the answer. Without it, the server reads and discards the rest (cheap, but
        # as long as the body): worth it only for a body of a known, moderate size.
        detail = f"Request body too large: the limit is {limit} bytes"
        super().__init__(413, detail, headers={"Connection": "close"} if close else None)


class BodyLimit:
    """Refuses a request body over the app's MAX_BODY_BYTES with 413, whatever the route: a
    declared Content-Length before a byte of the body is read, a chunked body as soon as what
    was received passes the limit. Nothing behind it ever holds more than the limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int = scope["app"].state.settings.MAX_BODY_BYTES
        declared = declared_length(scope)
        if declared is None:
            await self._counted(scope, receive, send, limit)
        elif declared > limit:
            await refuse(scope, receive, send, BodyTooLarge(limit, declared > DISCARD_BYTES))
        else:
            # The server frames the body by its Content-Length: it cannot deliver more.
            await self.app(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        counter = _Counter(receive, send, limit)
        try:
            await self.app(scope, counter.receive, counter.send)
        except BodyTooLarge as exc:
            # Raised past every handler (none renders it here): answer it, if still possible.
            if counter.started:
                raise
            await refuse(scope, receive, send, exc)


class _Counter:
    """A receive that counts body bytes and raises, for good, once they pass the limit
    (the chunk that passes it is never handed on), and a send that notes the response start."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self.limit = limit
        self.received = 0
        self.started = False

    async def receive(self) -> Message:
        if self.received > self.limit:
            raise BodyTooLarge(self.limit)
        message = await self._receive()
        self.received += len(message.get("body", b""))
        if self.received > self.limit:
            raise BodyTooLarge(self.limit)
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def declared_length(scope: Scope) -> int | None:
    """The Content-Length the body is framed by; None for a chunked (or unframed) body, which
    must be counted as it arrives."""
    length = None
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return None
    return length


async def refuse(scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge) -> None:
    body = error_body(exc.detail, "payload_too_large")
    await JSONResponse(body, status_code=413, headers=exc.headers)(scope, receive, send)
