"""Rate limits on Redis, by the `limits` library: failed sign-ins per account and per client
address, registrations per address, and each API key's budget on /3 (the RATE_LIMIT_* settings).
A spent limit answers 429 with Retry-After; with Redis unreachable every limit lets requests
through, and the log says so once a minute.

Sign-ins and registrations count in moving windows: exact (a slot frees a window after the
attempt that took it), and the few entries they keep cost nothing. The API key budget, checked
on every /3 request, counts in fixed windows: one INCR (with its EXPIRE, in one script) per
request, one round trip on the app's queue Redis, O(1) memory per key; the price is that a
burst across a window boundary may reach twice the budget, which a throughput budget tolerates
(a moving window would keep a timestamp per request; the sliding-window counter reads two keys).
"""

import asyncio
import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.errors import TooManyRequests
from api.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
KEY_PREFIX = "ratelimit"
# After Redis failed, the limits let requests through without asking it for this long, so no
# request waits on a Redis that is down or silent...
SKIP_SECONDS = 1.0
# ... and they say so in the log at most this often.
WARN_EVERY_SECONDS = 60.0
# Per-address limits count an IPv6 client by its /64: one host commonly holds all of one.
IPV6_PREFIX = 64
_STORE_ERRORS = (StorageError, RedisError, OSError, TimeoutError)


class _Outage:
    """Whether Redis failed within SKIP_SECONDS, and when the log last said so."""

    def __init__(self) -> None:
        self._skip_until = 0.0
        self._warned_at = -math.inf

    def active(self) -> bool:
        return time.monotonic() < self._skip_until

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._skip_until = now + SKIP_SECONDS
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("rate limits are off while Redis is unreachable: %r", exc)


class RateLimits:
    """The app's limits (app.state.rate_limits), on the queue's Redis (REDIS_URL, which never
    evicts: no count is lost to memory pressure), through the app's own connection pool."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=KEY_PREFIX,
            wrap_exceptions=True,
            # documented (limits 5) though its stub types options as scalars
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
        )
        self._moving = MovingWindowRateLimiter(storage)
        self._fixed = FixedWindowRateLimiter(storage)
        self.login_account = parse_many(settings.RATE_LIMIT_LOGIN_ACCOUNT)
        self.login_address = parse_many(settings.RATE_LIMIT_LOGIN_ADDRESS)
        self.register_address = parse_many(settings.RATE_LIMIT_REGISTER_ADDRESS)
        self.api_key = parse_many(settings.RATE_LIMIT_API_KEY)
        self._outage = _Outage()

    async def sign_in(
        self, email: str, address: str, check: Callable[[], Awaitable[T | None]]
    ) -> T | None:
        """`check()` (the password check: the account, or None) unless the address or the
        account has no failure left; then TooManyRequests, whether or not the password is right
        (no oracle), and the refused attempt counts nowhere. An attempt counts against the
        account before the check (so concurrent guesses cannot all slip in), and is forgotten
        with the account's other failures when it succeeds; a failure counts against the
        address too, which no success resets."""
        by_address = ("login-address", address)
        by_account = ("login-account", _account_key(email))
        await self._refuse_when_spent(self._moving, self.login_address, by_address, False)
        await self._refuse_when_spent(self._moving, self.login_account, by_account, False)
        await self._refuse_when_spent(self._moving, self.login_account, by_account)
        found = await check()
        if found is None:
            await self._store(_hit_all(self._moving, self.login_address, by_address))
        else:
            await self._store(_clear_all(self._moving, self.login_account, by_account))
        return found

    async def register(self, address: str) -> None:
        """Count a registration from this address, or TooManyRequests."""
        await self._refuse_when_spent(self._moving, self.register_address, ("register", address))

    async def api_key_wait(self, key_id: int) -> int:
        """Count a /3 request on this key: 0, or the seconds until its budget has room again."""
        identity = ("api-key", str(key_id))
        return await self._store(_wait(self._fixed, self.api_key, identity, consume=True)) or 0

    async def _refuse_when_spent(
        self,
        limiter: RateLimiter,
        items: Sequence[RateLimitItem],
        identity: tuple[str, ...],
        consume: bool = True,
    ) -> None:
        wait = await self._store(_wait(limiter, items, identity, consume))
        if wait:
            raise TooManyRequests(f"Too many attempts: try again in {wait} s", wait)

    async def _store(self, work: Awaitable[T]) -> T | None:
        """What Redis answered, or None (fail open) when it is unreachable or failed lately."""
        if self._outage.active():
            _discard(work)
            return None
        try:
            return await work
        except _STORE_ERRORS as exc:
            self._outage.failed(exc)
            return None


async def _wait(
    limiter: RateLimiter,
    items: Sequence[RateLimitItem],
    identity: tuple[str, ...],
    consume: bool,
) -> int:
    """0 when every limit has room (and, with `consume`, one is taken in each: in one script
    per limit, so the check and the count are one), else the seconds until all have room."""
    check = limiter.hit if consume else limiter.test
    allowed = await _all([check(item, *identity) for item in items])
    spent = [item for item, ok in zip(items, allowed, strict=True) if not ok]
    if not spent:
        return 0
    stats = await _all([limiter.get_window_stats(item, *identity) for item in spent])
    return max(1, math.ceil(max(stat.reset_time for stat in stats) - time.time()))


async def _hit_all(
    limiter: RateLimiter, items: Sequence[RateLimitItem], identity: tuple[str, ...]
) -> None:
    await _all([limiter.hit(item, *identity) for item in items])


async def _clear_all(
    limiter: RateLimiter, items: Sequence[RateLimitItem], identity: tuple[str, ...]
) -> None:
    await _all([limiter.clear(item, *identity) for item in items])


async def _all(calls: list[Coroutine[Any, Any, R]]) -> list[R]:
    """Their results, in order, run at once; one alone is just awaited (a task costs a /3
    request ~20 µs, a fifth of its round trip to Redis)."""
    if len(calls) == 1:
        return [await calls[0]]
    return list(await asyncio.gather(*calls))


def _discard(work: Awaitable[object]) -> None:
    if asyncio.iscoroutine(work):
        work.close()  # never started: nothing to wait for


def _account_key(email: str) -> str:
    """The account as its sign-in finds it (the email, trimmed and lower-cased, whether or not
    it exists), hashed: no address is written to Redis."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def client_address(request: Request) -> str:
    """The caller's address as uvicorn gives it: the peer's, or, behind a proxy that
    FORWARDED_ALLOW_IPS trusts (uvicorn's --proxy-headers), the one it forwarded."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def rate_limits(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.rate_limits
    return limits


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """The limits of one caller: the app's, bound to the caller's address."""

    limits: RateLimits
    address: str

    async def sign_in(self, email: str, check: Callable[[], Awaitable[T | None]]) -> T | None:
        """`check()` within the sign-in limits (RateLimits.sign_in)."""
        return await self.limits.sign_in(email, self.address, check)

    async def register(self) -> None:
        """Count a registration (one that passed validation), or TooManyRequests."""
        await self.limits.register(self.address)


async def _client_limits(request: Request) -> ClientLimits:
    return ClientLimits(rate_limits(request), client_address(request))


ClientLimitsDep = Annotated[ClientLimits, Depends(_client_limits)]
