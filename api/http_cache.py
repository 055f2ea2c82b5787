"""HTTP caching of public reads: an ETag on every public GET, 304 when the client has it,
Cache-Control saying who may keep the answer and for how long, and cache hits answered here,
before routing. Public is opt-in: only answers whose route declared them so (`cached_json`);
every other answer is `private, no-store`."""

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.cache import MISSED, PUBLIC, Cache, cacheable, etag_of, request_target

PRIVATE = "private, no-store"


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates


class HttpCaching:
    """Buffers successful public GET answers to tag them; private ones are marked no-store."""

    def __init__(self, app: ASGIApp, max_age: int = 0) -> None:
        self.app = app
        # max-age 0: clients revalidate every time (cheap with a 304), never showing stale data.
        self.public = f"public, max-age={max_age}" if max_age else "public, no-cache"
        self.public_header = (b"cache-control", self.public.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            # HEAD is GET without the body (RFC 9110 9.3.2): the routes only declare GET.
            await self(dict(scope, method="GET"), receive, _without_body(send))
            return
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if await self._from_cache(scope, send):
            return
        await self._tagged(scope, receive, send)

    async def _from_cache(self, scope: Scope, send: Send) -> bool:
        """Answer a cache hit without routing: the route that stored it said which scopes
        key its URL (Cache.reads), so this is the very lookup the route would make."""
        cache: Cache | None = getattr(scope["app"].state, "cache", None)
        if cache is None or not cache.enabled or not cacheable(scope):
            return False
        target = request_target(scope)
        read = cache.reads.get(target)
        if read is None:
            return False
        name = read.name()
        found = await cache.lookup(name, read.scopes)
        if found is None:
            return False
        etag, body = found.etag, found.body
        if etag is None or body is None:
            scope[MISSED] = (name, found.stamp)
            return False
        headers = [(b"content-type", b"application/json"), (b"etag", etag), self.public_header]
        if_none_match = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        if if_none_match is not None and matches(if_none_match.decode("latin-1"), etag.decode()):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    async def _tagged(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Tag a 200 that its route declared public; mark every other answer private."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if message["status"] != 200 or not scope.get(PUBLIC):
                    MutableHeaders(scope=message).setdefault("Cache-Control", PRIVATE)
                    await send(message)
                return
            assert start is not None
            if start["status"] != 200 or not scope.get(PUBLIC):
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._finish(scope, start, b"".join(chunks), send)

        await self.app(scope, receive, buffer)

    async def _finish(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        etag = etag_of(body).decode()
        headers = MutableHeaders(scope=start)
        headers["ETag"] = etag
        headers["Cache-Control"] = self.public
        if matches(Headers(scope=scope).get("if-none-match"), etag):
            not_modified = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({"type": "http.response.start", "status": 304, "headers": not_modified})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(start)
        await send({"type": "http.response.body", "body": body})


def _without_body(send: Send) -> Send:
    async def head(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
        elif not message.get("more_body", False):
            await send({"type": "http.response.body", "body": b""})

    return head
