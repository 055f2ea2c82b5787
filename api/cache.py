"""The Redis cache of public reads. Every write bumps the version numbers of what it changed,
and a stored answer is served only while the versions it was built under are still the current
ones, so a read after a write never meets the old value; with Redis down, reads are served
uncached."""

import asyncio
import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.redis_pipe import RedisPipe

log = logging.getLogger(__name__)

PREFIX = "mq:cache"
# Stored answers live under ANSWERS: bumped whenever the answers' shapes change (list items
# gained the record's lists in 2), so an upgraded API never serves what an older one stored.
ANSWERS = f"{PREFIX}:d2"
# Scopes: what a cached answer depends on; a write bumps the scopes it changes.
CATALOG = "catalog"  # any movie's fields or numbers: lists, genres, the database-served /movies
SEARCH = "search"  # what the index holds: bumped by the worker once Meilisearch applied a change
TRENDING = "trending"  # the trending scores: bumped by the cron that recomputes them
PEOPLE = "people"  # people's derived fields: bumped by the worker once it refreshed them


# After a Redis error a process serves uncached for this long: another process's invalidation
# may have failed in the same blip and be waiting to be sent again.
DISTRUST_SECONDS = 1.0
# An invalidation Redis did not take is sent again after the first pause, doubling to the second.
RESEND_PAUSES = (0.02, 0.5)

# A stored value: the versions it was built under, a newline, the answer's ETag (a quoted
# 32-digit hex digest), then its JSON.
ETAG_LENGTH = 34
# How many distinct public URLs the HTTP layer remembers the cache scopes of (see `CachedRead`).
MAX_REMEMBERED = 10_000


def movie_scope(movie_id: int) -> str:
    return f"movie:{movie_id}"


def person_scope(person_id: int) -> str:
    return f"person:{person_id}"


def key_scope(digest: str) -> str:
    """An API key's marker (its SHA-256 hex digest): VALID and the key's id while the key
    works (`Cache.admit`), a random value once it is revoked (`Cache.bump`, as any scope)."""
    return f"key:{digest}"


# How a marker that admits its holder starts; an id follows.
VALID = b"valid:"


def etag_of(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def today_iso() -> str:
    """A `vary` for answers that depend on the date (upcoming, now playing)."""
    return date.today().isoformat()


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
    marker: bytes | None = None  # the marker read with them, when one was asked for


# An ASGI scope (what starlette.types.Scope names): spelled out, because the worker imports this
# module and must not load a web framework (tests/test_layers.py).
Scope = MutableMapping[str, Any]


class Gate(Protocol):
    """Who may be answered a stored answer before routing, and what a hit owes once it is sent
    (api.tmdb.auth.KeyGate: /3's API keys, whose check the route would otherwise make)."""

    def marker(self, scope: Scope) -> str | None:
        """The marker (a scope such as `key_scope`) read with the answer, whose value must
        start with VALID for the hit to be served; None: the request goes to its route."""

    async def served(self, scope: Scope, marker: str, value: bytes) -> None:
        """Called once the hit is sent, with the marker's value. Never raises."""


@dataclass(frozen=True, slots=True)
class CachedRead:
    """What a cached route's answer for one URL depends on: what the route reads of the URL
    (`read_target`), the scopes whose versions key it, `vary`, a value (or a function giving
    it) that also keys it, and the gate a hit must pass when the route checks a credential."""

    target: str
    scopes: tuple[str, ...]
    vary: str | Callable[[], str] = ""
    gate: Gate | None = None

    def name(self) -> str:
        return _name(self.target, self.vary() if callable(self.vary) else self.vary)


class Cache:
    """Lookups go through `pipe` when there is one (the hot path), else through `redis`.

    Through a Redis blip no read after a write meets the old value: an invalidation Redis did
    not take is retried until it does, and until then (and for a moment after any Redis error,
    when another process's invalidation may be waiting the same way) this process serves
    answers uncached rather than trust what Redis holds."""

    def __init__(
        self, redis: Redis | None, ttl_seconds: int, pipe: RedisPipe | None = None
    ) -> None:
        self.redis = redis
        self.ttl = ttl_seconds
        self.pipe = pipe
        # URL -> what its route declared: lets the HTTP layer answer a hit before routing.
        # A route's scopes are a function of its URL, so an entry never goes stale.
        self.reads: dict[str, CachedRead] = {}
        self._unsent: set[str] = set()  # scopes whose invalidation Redis has not taken yet
        self._resend: asyncio.Task[None] | None = None
        self._distrust_until = 0.0

    def remember(self, target: str, read: CachedRead) -> None:
        if target not in self.reads and len(self.reads) >= MAX_REMEMBERED:
            self.reads.clear()
        self.reads[target] = read

    @property
    def enabled(self) -> bool:
        return self.redis is not None and self.ttl > 0

    @property
    def trusted(self) -> bool:
        return not self._unsent and time.monotonic() >= self._distrust_until

    def _failed(self, exc: Exception) -> None:
        self._distrust_until = time.monotonic() + DISTRUST_SECONDS
        log.debug("cache unavailable: %s", exc)

    async def lookup(
        self, name: str, scopes: Iterable[str], marker: str | None = None
    ) -> Entry | None:
        """The scopes' versions and the answer stored for `name` (and the `marker`'s value,
        when asked: a missing one is not started), read in one MGET (atomic, no script to
        run); None when the answer must be built uncached (Redis out or not trusted, or a
        version missing: see `_start_versions`)."""
        assert self.redis is not None
        if not self.trusted:
            return None
        version_keys = _version_keys(tuple(scopes))
        keys = [*version_keys, f"{ANSWERS}:{name}"]
        if marker is not None:
            keys.append(_version_key(marker))
        try:
            if self.pipe is not None:
                values = await self.pipe.call("MGET", *keys)
            else:
                values = await self.redis.mget(keys)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        marked = values.pop() if marker is not None else None
        *versions, value = values
        if None in versions:
            # New, or evicted by a memory-bounded Redis: no stored answer can be current.
            started = await self._start_versions(version_keys)
            return None if started is None else Entry(b".".join(started), marker=marked)
        stamp = b".".join(versions)
        if value is not None and value.startswith(stamp + b"\n"):
            start = len(stamp) + 1  # slice once: answers run to tens of KB
            etag, body = value[start : start + ETAG_LENGTH], value[start + ETAG_LENGTH :]
            return Entry(stamp, etag, body, marked)
        return Entry(stamp, marker=marked)

    async def admit(self, marker: str, ident: int, ttl_seconds: int) -> None:
        """Mark `marker` VALID for `ident` for a while, unless it holds a value already: a
        bumped (revoked) marker is never overwritten, so a check that raced the bump cannot
        revive it. Best effort: a failure only sends hits through their routes."""
        if not self.enabled:
            return
        assert self.redis is not None
        try:
            value = VALID + str(ident).encode()
            await self.redis.set(_version_key(marker), value, nx=True, ex=ttl_seconds)
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def _start_versions(self, keys: tuple[str, ...]) -> list[bytes] | None:
        """Give versions that are missing a fresh random value (an answer stored under an
        earlier value can then never match again) and read them all; None if Redis failed."""
        assert self.redis is not None
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(key, _new_version(), nx=True)
                pipe.mget(keys)
                *_, versions = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        return None if None in versions else list(versions)

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
        body = json_of(await build())
        if stamp is not None:
            # Built after reading `stamp`: if a write bumped since, the stamp no longer matches
            # and the entry is never served.
            await self._set(f"{ANSWERS}:{name}", stamp + b"\n" + etag_of(body) + body)
        return body

    async def bump(self, scopes: Iterable[str]) -> None:
        """Invalidate everything cached under these scopes: each gets a new random version, so
        old entries go unread. If Redis does not take it, it is sent again until it does."""
        if self.redis is None:
            return
        scopes = set(scopes)
        try:
            await self._send(scopes)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            log.warning("cache invalidation failed (%s); retrying until Redis takes it", exc)
            self._unsent |= scopes
            if self._resend is None or self._resend.done():
                self._resend = asyncio.create_task(self._resend_until_taken())

    async def _send(self, scopes: set[str]) -> None:
        assert self.redis is not None
        async with self.redis.pipeline(transaction=False) as pipe:
            for scope in scopes:
                pipe.set(_version_key(scope), _new_version())
            await pipe.execute()

    async def _resend_until_taken(self) -> None:
        pause = RESEND_PAUSES[0]
        while self._unsent:
            await asyncio.sleep(pause)
            scopes = set(self._unsent)
            try:
                await self._send(scopes)
            except (RedisError, OSError) as exc:
                self._failed(exc)
                pause = min(pause * 2, RESEND_PAUSES[1])
                continue
            self._unsent -= scopes
        log.info("cache invalidations sent after Redis came back")

    async def _set(self, key: str, body: bytes) -> None:
        assert self.redis is not None
        try:
            await self.redis.set(key, body, ex=self.ttl)
        except (RedisError, OSError) as exc:
            self._failed(exc)


def _new_version() -> bytes:
    return secrets.token_hex(8).encode()


def json_of(answer: BaseModel | bytes) -> bytes:
    """A route's answer as JSON: hot routes hand over bytes they serialized themselves."""
    return answer if isinstance(answer, bytes) else answer.model_dump_json().encode()
