"""Cached /3 answers: the app's Redis cache, shared with every key, behind the API key check.
The first answer for a URL goes through routing (and `require_app_key`); the HTTP layer then
answers the URL's hits before routing, but only through the key gate (api.tmdb.auth.KEY_GATE):
the key's validity is a marker in the cache's Redis, read in the same lookup as the answer."""

from collections.abc import Awaitable, Callable, Iterable

from fastapi import Request, Response
from pydantic import BaseModel

from api.cache import Cache, CachedRead, json_of
from api.http_cache import cacheable, cached_body, read_target
from api.tmdb.auth import KEY_GATE


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
    if cache.enabled and cacheable(request.scope):
        read = CachedRead(read_target(request), tuple(scopes), vary, KEY_GATE)
        body = await cached_body(request, read, build)
    else:
        body = json_of(await build())
    return Response(content=body, media_type="application/json")
