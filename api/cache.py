"""The Redis cache of public reads. Keys carry version numbers that every write bumps, so a
read after a write never meets the old value; with Redis down, reads are served uncached."""

import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlencode

from fastapi import Request, Response
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import after_commit

log = logging.getLogger(__name__)

PREFIX = "mq:cache"
# Scopes: what a cached answer depends on; a write bumps the scopes it changes.
CATALOG = "catalog"  # any movie's fields or numbers: lists, genres, the database-served /movies
SEARCH = "search"  # what the index holds: bumped by the worker once Meilisearch applied a change
TRENDING = "trending"  # the trending scores: bumped by the cron that recomputes them


# Reads the versions, builds the key and gets it in one round trip. (It reads a key it does
# not declare, so it is for a single Redis, not a cluster.)
_LOOKUP = """
local stamp = {}
for i, version_key in ipairs(KEYS) do stamp[i] = redis.call('get', version_key) or '0' end
local key = ARGV[1] .. ':' .. table.concat(stamp, '.') .. ':' .. ARGV[2]
return {key, redis.call('get', key)}
"""


def movie_scope(movie_id: int) -> str:
    return f"movie:{movie_id}"


class Cache:
    def __init__(self, redis: Redis | None, ttl_seconds: int) -> None:
        self.redis = redis
        self.ttl = ttl_seconds

    @property
    def enabled(self) -> bool:
        return self.redis is not None and self.ttl > 0

    async def lookup(self, name: str, scopes: Iterable[str]) -> tuple[str, bytes | None] | None:
        """The key for `name` under the scopes' current versions, and what it holds, in one
        round trip; None when Redis is out."""
        assert self.redis is not None
        version_keys = [f"{PREFIX}:v:{scope}" for scope in scopes]
        try:
            key, value = await self.redis.eval(
                _LOOKUP, len(version_keys), *version_keys, PREFIX, name
            )  # type: ignore[misc]
        except (RedisError, OSError) as exc:
            log.debug("cache unavailable: %s", exc)
            return None
        return key.decode(), value

    async def get_or_build(
        self, name: str, scopes: Iterable[str], build: Callable[[], Awaitable[BaseModel]]
    ) -> bytes:
        """The JSON for `name`, from the cache or built (and stored) now."""
        found = await self.lookup(name, scopes) if self.enabled else None
        if found is not None and found[1] is not None:
            return found[1]
        body = (await build()).model_dump_json().encode()
        if found is not None:
            await self._set(found[0], body)
        return body

    async def bump(self, scopes: Iterable[str]) -> None:
        """Invalidate everything cached under these scopes (a new version: old keys go unread)."""
        if self.redis is None:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for scope in set(scopes):
                    pipe.incr(f"{PREFIX}:v:{scope}")
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning(
                "cache invalidation failed (%s); the worker bumps again when it indexes", exc
            )

    async def _set(self, key: str, body: bytes) -> None:
        assert self.redis is not None
        try:
            await self.redis.set(key, body, ex=self.ttl)
        except (RedisError, OSError):
            return


def invalidate_after_commit(session: AsyncSession, scopes: Iterable[str]) -> None:
    """Bump these scopes once the session commits, before the response goes out."""
    cache: Cache | None = session.info.get("cache")
    if cache is None:
        return
    pending: set[str] = session.info.setdefault("pending_scopes", set())
    fresh = set(scopes) - pending
    if not fresh:
        return
    pending.update(fresh)

    async def _bump() -> None:
        await cache.bump(fresh)

    after_commit(session, _bump)


async def cached_json(
    request: Request,
    scopes: Iterable[str],
    build: Callable[[], Awaitable[BaseModel]],
    vary: str = "",
) -> Response:
    """Answer a public read from the cache, building (and storing) it on a miss. The key is
    the path and the sorted query (plus `vary`, e.g. today's date for date windows)."""
    query = urlencode(sorted(request.query_params.multi_items()))
    name = hashlib.blake2b(
        f"{request.url.path}?{query}#{vary}".encode(), digest_size=16
    ).hexdigest()
    cache: Cache = request.app.state.cache
    body = await cache.get_or_build(name, scopes, build)
    return Response(content=body, media_type="application/json")
