"""The app credential of every /3 request: an API key as `?api_key=` or as
`Authorization: Bearer <key>` (TMDB's "read access token" form), or TMDB's 401 with code 7; and
the gate that lets cached /3 answers be served before routing (`KEY_GATE`)."""

import functools
import logging
import math
import time
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import BackgroundTasks, Request, Security
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import QueryParams
from starlette.types import Scope

from api.cache import MAX_REMEMBERED, VALID, Cache, key_scope
from api.deps import SessionDep
from api.ratelimit import rate_limits
from api.tmdb.errors import INVALID_API_KEY, RATE_LIMITED, TmdbError
from api.types import utcnow
from api.users import api_keys
from api.users.api_keys import LAST_USED_PRECISION, KeyHolder

log = logging.getLogger(__name__)
K = TypeVar("K")

# How long the cache's marker of a key the database found working admits hits before routing;
# revoking the key bumps the marker at once (api.users.api_keys.revoke).
KEY_MARKER_SECONDS = 600
# Entries a process keeps of keys over budget and of uses it recorded (then it starts afresh).
MAX_TRACKED_KEYS = 10_000
# What the gate's work after a hit logs when it fails unexpectedly, at most this often.
WARN_EVERY_SECONDS = 60.0

# Security schemes, not query parameters: the key is not part of what keys a cached answer.
_query_key = APIKeyQuery(
    name="api_key", auto_error=False, description="A Marquee API key (POST /users/me/api-keys)"
)
_bearer_key = HTTPBearer(auto_error=False, description="The same API key, as a Bearer token")


def presented_key(query_key: str | None, bearer: HTTPAuthorizationCredentials | None) -> str | None:
    """The key the request carries: `api_key` when given (what most clients send), else the
    Bearer token."""
    if query_key:
        return query_key
    return bearer.credentials if bearer is not None else None


async def require_app_key(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    query_key: Annotated[str | None, Security(_query_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer_key)],
) -> KeyHolder:
    """The key's holder, or TMDB's 401 (code 7) for a missing, unknown or revoked key, or
    TMDB's 429 (code 25, with Retry-After) once the key's RATE_LIMIT_API_KEY is spent."""
    key = presented_key(query_key, bearer)
    holder = await api_keys.find_active(session, key) if key else None
    if holder is None:
        raise TmdbError(INVALID_API_KEY)
    # After the answer: the key's marker, so its next cached answers skip routing.
    background.add_task(_admit, request.app.state.cache, holder)
    await _within_budget(request, holder.key_id)
    now = utcnow()
    if holder.needs_touch(now):
        # After the answer, in a transaction of its own: no write (or lock) in the request's.
        background.add_task(_record_use, request.app.state.sessionmaker, holder.key_id, now)
    return holder


async def _admit(cache: Cache, holder: KeyHolder) -> None:
    await cache.admit(key_scope(holder.digest), holder.key_id, KEY_MARKER_SECONDS)


async def _within_budget(request: Request, key_id: int) -> None:
    """One Redis round trip (api.ratelimit). No X-RateLimit-* headers: tmdbv3api needs both
    Remaining and Reset or neither, and knowing them would cost a second round trip."""
    limits = rate_limits(request)
    wait = await limits.api_key_wait(key_id)
    if wait:
        allowed = min(item.amount for item in limits.api_key)
        message = f"Your request count (#) is over the allowed limit of ({allowed})."
        raise TmdbError(RATE_LIMITED._replace(message=message), {"Retry-After": str(wait)})


async def _record_use(
    sessionmaker: async_sessionmaker[AsyncSession], key_id: int, now: datetime
) -> None:
    try:
        async with sessionmaker() as session:
            await api_keys.touch(session, key_id, now)
            await session.commit()
    except (SQLAlchemyError, OSError) as exc:  # best effort: the answer is already sent
        log.warning("could not record the use of API key %s: %s", key_id, exc)


AppKey = Annotated[KeyHolder, Security(require_app_key)]


def scope_key(scope: Scope) -> str | None:
    """The key `require_app_key` would read from this request (`presented_key`)."""
    return _query_api_key(scope["query_string"]) or _bearer_of(scope["headers"])


# Memoized as api.http_cache's request targets are: hits repeat their query strings.
@functools.lru_cache(maxsize=MAX_REMEMBERED)
def _query_api_key(raw_query: bytes) -> str | None:
    return QueryParams(raw_query).get("api_key") or None  # the last one, as APIKeyQuery reads


def _bearer_of(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The first Authorization header's Bearer token, as HTTPBearer reads it."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            credentials = credentials.strip()
            return credentials if scheme.lower() == "bearer" and credentials else None
    return None


class KeyGate:
    """/3's API keys at the cache's gate (api.cache.Gate): a cached /3 answer is served before
    routing only to a key whose marker says valid (written by `require_app_key` once the
    database found the key working, bumped when it is revoked). The hit is counted against the
    key's budget after it is sent: a key found over it has its next requests routed (which
    answer TMDB's 429) until its window ends. A hit records the key's use at most once a
    minute per process. What it remembers is this process's."""

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}  # marker -> monotonic time its budget has room
        self._touched: dict[int, float] = {}  # key id -> monotonic time of the last record
        self._warned_at = -math.inf

    def marker(self, scope: Scope) -> str | None:
        key = scope_key(scope)
        digest = api_keys.key_digest(key) if key else None
        if digest is None:
            return None
        marker = key_scope(digest)
        until = self._spent.get(marker)
        if until is not None:
            if time.monotonic() < until:
                return None
            del self._spent[marker]
        return marker

    async def served(self, scope: Scope, marker: str, value: bytes) -> None:
        state = scope["app"].state
        try:
            key_id = int(value.removeprefix(VALID))
            wait = await state.rate_limits.api_key_wait(key_id)  # fails open, logging itself
            now = time.monotonic()
            if wait:
                _bounded(self._spent)[marker] = now + wait
            if now - self._touched.get(key_id, -math.inf) >= LAST_USED_PRECISION.total_seconds():
                _bounded(self._touched)[key_id] = now
                await _record_use(state.sessionmaker, key_id, utcnow())
        except Exception as exc:  # noqa: BLE001 - the answer is sent: nothing to fail
            self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("counting a cached /3 answer failed: %r", exc)


def _bounded(tracked: dict[K, float]) -> dict[K, float]:
    if len(tracked) >= MAX_TRACKED_KEYS:
        tracked.clear()
    return tracked


KEY_GATE = KeyGate()
