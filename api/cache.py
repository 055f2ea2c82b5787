"""The Redis cache of public reads. Every write bumps the version numbers of what it changed,
and a stored answer is served only while the versions it was built under are still the current
ones, so a read after a write never meets the old value; with Redis down, reads are served
uncached."""

import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import Request, Response
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams
from starlette.types import Scope

from api.db import after_commit
from api.redis_pipe import RedisPipe

log = logging.getLogger(__name__)

PREFIX = "mq:cache"
# Scopes: what a cached answer depends on; a write bumps the scopes it changes.
CATALOG = "catalog"  # any movie's fields or numbers: lists, genres, the database-served /movies
SEARCH = "search"  # what the index holds: bumped by the worker once Meilisearch applied a change
TRENDING = "trending"  # the trending scores: bumped by the cron that recomputes them


# A stored value: the versions it was built under, a newline, the answer's ETag (a quoted
# 32-digit hex digest), then its JSON.
ETAG_LENGTH = 34
# How many distinct public URLs the HTTP layer remembers the cache scopes of (see `CachedRead`).
MAX_REMEMBERED = 10_000
# Longer query strings are answered uncached: what is remembered per URL stays bounded
# (about 40 MB at most) whatever URLs clients make up. Real ones are a few hundred bytes.
MAX_CACHED_QUERY = 1024


def cacheable(scope: Scope) -> bool:
    return len(scope["query_string"]) <= MAX_CACHED_QUERY


def movie_scope(movie_id: int) -> str:
    return f"movie:{movie_id}"


def etag_of(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def today_iso() -> str:
    """A `vary` for answers that depend on the date (upcoming, now playing)."""
    return date.today().isoformat()


def request_target(scope: Scope) -> str:
    """The path and the sorted query: what a cached answer is for (the order of parameters and
    their encoding do not matter). Memoized: only for `cacheable` scopes."""
    return _target(scope["path"], scope["query_string"])


# Memoized: a hit answered before routing spent a tenth of its time parsing its query string.
@functools.lru_cache(maxsize=MAX_REMEMBERED)
def _target(path: str, raw_query: bytes) -> str:
    query = urlencode(sorted(QueryParams(raw_query).multi_items())) if raw_query else ""
    return f"{path}?{query}"


def _version_key(scope: str) -> str:
    return f"{PREFIX}:v:{scope}"


@functools.lru_cache(maxsize=MAX_REMEMBERED)
def _version_keys(scopes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_version_key(scope) for scope in scopes)


@functools.lru_cache(maxsize=MAX_REMEMBERED)
def _name(target: str, vary: str) -> str:
    return hashlib.blake2b(f"{target}#{vary}".encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """What a lookup found: the scopes' current versions, and the answer stored under exactly
    those versions, if any (etag and body are None otherwise)."""

    stamp: bytes
    etag: bytes | None = None
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class CachedRead:
    """What a cached route's answer for one URL depends on: the scopes whose versions key it,
    and `vary`, a value (or a function giving it) that also keys it."""

    scopes: tuple[str, ...]
    vary: str | Callable[[], str] = ""

    def name(self, target: str) -> str:
        return _name(target, self.vary() if callable(self.vary) else self.vary)


class Cache:
    """Lookups go through `pipe` when there is one (the hot path), else through `redis`."""

    def __init__(
        self, redis: Redis | None, ttl_seconds: int, pipe: RedisPipe | None = None
    ) -> None:
        self.redis = redis
        self.ttl = ttl_seconds
        self.pipe = pipe
        # URL -> what its route declared: lets the HTTP layer answer a hit before routing.
        # A route's scopes are a function of its URL, so an entry never goes stale.
        self.reads: dict[str, CachedRead] = {}

    def remember(self, target: str, read: CachedRead) -> None:
        if target not in self.reads and len(self.reads) >= MAX_REMEMBERED:
            self.reads.clear()
        self.reads[target] = read

    @property
    def enabled(self) -> bool:
        return self.redis is not None and self.ttl > 0

    async def lookup(self, name: str, scopes: Iterable[str]) -> Entry | None:
        """The scopes' versions and the answer stored for `name`, read in one MGET (atomic, no
        script to run); None when Redis is out."""
        assert self.redis is not None
        keys = [*_version_keys(tuple(scopes)), f"{PREFIX}:d:{name}"]
        try:
            if self.pipe is not None:
                *versions, value = await self.pipe.call("MGET", *keys)
            else:
                *versions, value = await self.redis.mget(keys)
        except (RedisError, OSError) as exc:
            log.debug("cache unavailable: %s", exc)
            return None
        stamp = b".".join(version or b"0" for version in versions)
        if value is not None and value.startswith(stamp + b"\n"):
            start = len(stamp) + 1  # slice once: answers run to tens of KB
            return Entry(stamp, value[start : start + ETAG_LENGTH], value[start + ETAG_LENGTH :])
        return Entry(stamp)

    async def get_or_build(
        self,
        name: str,
        scopes: Iterable[str],
        build: Callable[[], Awaitable[BaseModel | bytes]],
        stamp: bytes | None = None,
    ) -> bytes:
        """The JSON for `name`, from the cache or built (and stored) now. `stamp`: the versions
        a lookup that just missed read, so a miss costs one round trip, not two."""
        if stamp is None and self.enabled:
            found = await self.lookup(name, scopes)
            if found is not None and found.body is not None:
                return found.body
            stamp = found.stamp if found is not None else None
        body = _json(await build())
        if stamp is not None:
            # Built after reading `stamp`: if a write bumped since, the stamp no longer matches
            # and the entry is never served.
            await self._set(f"{PREFIX}:d:{name}", stamp + b"\n" + etag_of(body) + body)
        return body

    async def bump(self, scopes: Iterable[str]) -> None:
        """Invalidate everything cached under these scopes (a new version: old keys go unread)."""
        if self.redis is None:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for scope in set(scopes):
                    pipe.incr(_version_key(scope))
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


def _json(answer: BaseModel | bytes) -> bytes:
    """A route's answer as JSON: hot routes hand over bytes they serialized themselves."""
    return answer if isinstance(answer, bytes) else answer.model_dump_json().encode()


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


# Set by the HTTP layer when its lookup for this request missed: (name, the versions read).
MISSED = "marquee.cache_missed"


async def cached_json(
    request: Request,
    scopes: Iterable[str],
    build: Callable[[], Awaitable[BaseModel | bytes]],
    vary: str | Callable[[], str] = "",
) -> Response:
    """Answer a public read from the cache, building (and storing) it on a miss. The key is
    the path and the sorted query, plus `vary` (e.g. `today_iso` for date windows)."""
    cache: Cache = request.app.state.cache
    if not cache.enabled or not cacheable(request.scope):
        return Response(content=_json(await build()), media_type="application/json")
    target, read = request_target(request.scope), CachedRead(tuple(scopes), vary)
    name = read.name(target)
    cache.remember(target, read)
    missed: tuple[str, bytes] | None = request.scope.get(MISSED)
    stamp = missed[1] if missed is not None and missed[0] == name else None
    body = await cache.get_or_build(name, read.scopes, build, stamp)
    return Response(content=body, media_type="application/json")
