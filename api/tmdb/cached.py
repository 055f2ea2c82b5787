"""Cached /3 answers: the app's Redis cache, used after the route's dependencies (the API key
check) have run. Never `api.http_cache.cached_json` under /3: that one remembers the URL so the
HTTP layer answers the next hit before routing, which would skip the key check (and the key is
not in the URL when it comes as a Bearer token)."""

from collections.abc import Awaitable, Callable, Iterable

from fastapi import Request, Response
from pydantic import BaseModel

from api.cache import Cache, CachedRead, json_of
from api.http_cache import cacheable, read_target


async def cached_answer(
    request: Request,
    scopes: Iterable[str],
    build: Callable[[], Awaitable[BaseModel | bytes]],
    vary: str | Callable[[], str] = "",
) -> Response:
    """The JSON answer from the cache, or built (and stored) now. Keyed by the path and the
    query parameters the route declares (so not by the key, nor by ignored extras), and by
    `vary` as native answers are (`today_iso` for date windows, the index for searches)."""
    cache: Cache = request.app.state.cache
    scopes = tuple(scopes)
    if cache.enabled and cacheable(request.scope):
        name = CachedRead(read_target(request), scopes, vary).name()
        body = await cache.get_or_build(name, scopes, build)
    else:
        body = json_of(await build())
    return Response(content=body, media_type="application/json")
