"""HTTP caching of public reads: an ETag on every public GET, 304 when the client has it,
Cache-Control saying who may keep the answer and for how long, and cache hits answered here,
before routing (those of routes behind a credential, /3's, only once their gate admits them).
Public is opt-in: only answers whose route declared them so (`cached_json`); every other
answer is `private, no-store`."""

import functools
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import field_annotation_is_sequence
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.cache import MAX_REMEMBERED, VALID, Cache, CachedRead, Entry, Gate, etag_of, json_of

PRIVATE = "private, no-store"
_PRIVATE_HEADER = (b"cache-control", PRIVATE.encode())
_JSON_HEADER = (b"content-type", b"application/json")

# Longer query strings are answered uncached: what is remembered per URL stays bounded
# (about 40 MB at most) whatever URLs clients make up. Real ones are a few hundred bytes.
MAX_CACHED_QUERY = 1024


def cacheable(scope: Scope) -> bool:
    return len(scope["query_string"]) <= MAX_CACHED_QUERY


def request_target(scope: Scope) -> str:
    """The path and the query sorted by name: the order of different parameters and their
    encoding do not matter, the order of a repeated one does (a route reads its last value).
    Memoized: only for `cacheable` scopes."""
    return _target(scope["path"], scope["query_string"])


# Memoized: a hit answered before routing spent a tenth of its time parsing its query string.
@functools.lru_cache(maxsize=MAX_REMEMBERED)
def _target(path: str, raw_query: bytes) -> str:
    items = sorted(QueryParams(raw_query).multi_items(), key=lambda item: item[0])
    return f"{path}?{urlencode(items)}" if raw_query else f"{path}?"


def read_target(request: Request) -> str:
    """What the route reads of the URL: its path and, of its declared query parameters, the
    values it reads (the last of a repeated single-valued one, all of a list). Parameters the
    route ignores are left out, so made-up ones share the entry of the URL without them."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return request_target(request.scope)
    query = request.query_params
    items: list[tuple[str, str]] = []
    for alias, is_list in _query_params(route):
        values = query.getlist(alias)
        items += [(alias, value) for value in (values if is_list else values[-1:])]
    return f"{request.scope['path']}?{urlencode(items)}"


def _query_params(route: APIRoute) -> tuple[tuple[str, bool], ...]:
    """(name, takes a list) for each query parameter the route or its dependencies declare;
    kept on the route (routes are not hashable, and live as long as their app)."""
    known: tuple[tuple[str, bool], ...] | None = getattr(route, _QUERY_PARAMS, None)
    if known is None:
        known = _declared_query_params(route)
        setattr(route, _QUERY_PARAMS, known)
    return known


_QUERY_PARAMS = "_marquee_query_params"


def _declared_query_params(route: APIRoute) -> tuple[tuple[str, bool], ...]:
    found: dict[str, bool] = {}
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        for field in dependant.query_params:
            found[field.alias] = field_annotation_is_sequence(field.field_info.annotation)
        pending.extend(dependant.dependencies)
    return tuple(sorted(found.items()))


# Set by the HTTP layer when its lookup for this request missed: (name, the versions read).
MISSED = "marquee.cache_missed"
# Set by a route whose answer is the same for everyone (see `cached_json`).
PUBLIC = "marquee.public"


async def cached_json(
    request: Request,
    scopes: Iterable[str],
    build: Callable[[], Awaitable[BaseModel | bytes]],
    vary: str | Callable[[], str] = "",
) -> Response:
    """Answer a public read from the cache, building (and storing) it on a miss. The key is
    what the route reads of the URL (`read_target`), plus `vary` (e.g. `today_iso` for date
    windows). Declares the answer public: the HTTP layer tags it for shared caches."""
    request.scope[PUBLIC] = True
    cache: Cache = request.app.state.cache
    if not cache.enabled or not cacheable(request.scope):
        return Response(content=json_of(await build()), media_type="application/json")
    read = CachedRead(read_target(request), tuple(scopes), vary)
    return Response(content=await cached_body(request, read, build), media_type="application/json")


async def cached_body(
    request: Request, read: CachedRead, build: Callable[[], Awaitable[BaseModel | bytes]]
) -> bytes:
    """The JSON for `read` from the cache, or built (and stored) now; remembers the URL's read,
    so the next hit is answered before routing. Only with the cache on, for a `cacheable` URL."""
    cache: Cache = request.app.state.cache
    name = read.name()
    cache.remember(request_target(request.scope), read)
    missed: tuple[str, bytes] | None = request.scope.get(MISSED)
    stamp = missed[1] if missed is not None and missed[0] == name else None
    return await cache.get_or_build(name, read.scopes, build, stamp)


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
        read = cache.reads.get(request_target(scope))
        if read is None:
            return False
        if read.gate is not None:
            return await _gated_hit(cache, scope, read, read.gate, send)
        found = await _stored(cache, scope, read)
        if found is None:
            return False
        await self._send_public(scope, found, send)
        return True

    async def _send_public(self, scope: Scope, found: Entry, send: Send) -> None:
        etag, body = found.etag, found.body
        assert etag is not None and body is not None
        headers = [_JSON_HEADER, (b"etag", etag), self.public_header]
        if_none_match = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        if if_none_match is not None and matches(if_none_match.decode("latin-1"), etag.decode()):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

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


async def _stored(
    cache: Cache, scope: Scope, read: CachedRead, marker: str | None = None
) -> Entry | None:
    """The stored answer (with `marker`'s value, when one is asked for), or None: a miss
    leaves the versions it read for the route (MISSED), so it builds with no second lookup."""
    name = read.name()
    found = await cache.lookup(name, read.scopes, marker)
    if found is None:
        return None
    if found.etag is None or found.body is None:
        scope[MISSED] = (name, found.stamp)
        return None
    return found


async def _gated_hit(cache: Cache, scope: Scope, read: CachedRead, gate: Gate, send: Send) -> bool:
    """A hit behind a credential: the gate names the credential's marker, read in the same
    lookup; anything but a valid one (no credential, an unknown or revoked one) goes to the
    route, whose own check answers. Sent as the route sends it: private, with no ETag (a
    shared cache must not hand it to a client without the credential)."""
    marker = gate.marker(scope)
    if marker is None:
        return False
    found = await _stored(cache, scope, read, marker)
    if found is None or found.marker is None or not found.marker.startswith(VALID):
        return False
    body = found.body or b""
    length = (b"content-length", str(len(body)).encode())
    headers = [_JSON_HEADER, length, _PRIVATE_HEADER]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    await gate.served(scope, marker, found.marker)
    return True


def _without_body(send: Send) -> Send:
    async def head(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
        elif not message.get("more_body", False):
            await send({"type": "http.response.body", "body": b""})

    return head
