"""Password hashing (argon2, in a bounded pool of its own) and access tokens (JWT, HS256)."""

import asyncio
import contextlib
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.errors import ServiceUnavailable

_hasher = PasswordHasher()
_ALGORITHM = "HS256"
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


# argon2 takes ~0.1 s of CPU per hash or check (64 MiB, 3 passes) and lets go of the GIL. It
# runs in a pool of its own, one thread per CPU at a lower CPU priority than the event loop's,
# so a storm of sign-ins uses idle CPU without slowing other requests
# (bench/results/login-storm.md). Past PASSWORD_QUEUE jobs waiting, one is refused at once
# (503) rather than queued for seconds.
PASSWORD_WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
PASSWORD_QUEUE = 64
PASSWORD_NICENESS = 10  # CFS gives a thread 10 nice levels down about a tenth of the CPU share


class PasswordsBusy(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__(
            "Too many sign-ins at once: try again in a moment",
            "password_checks_busy",
            headers={"Retry-After": "1"},
        )


class _PasswordPool:
    """The argon2 threads, and the admission that bounds what waits for them."""

    def __init__(self, workers: int, queue: int) -> None:
        self._slots = threading.BoundedSemaphore(workers + queue)
        self._executor = ThreadPoolExecutor(
            workers, thread_name_prefix="argon2", initializer=_lower_priority
        )

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        if not self._slots.acquire(blocking=False):
            raise PasswordsBusy()
        future = self._executor.submit(fn, *args)
        future.add_done_callback(lambda _: self._slots.release())
        return future


_pool: _PasswordPool | None = None
_pool_lock = threading.Lock()


def _password_pool() -> _PasswordPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _PasswordPool(PASSWORD_WORKERS, PASSWORD_QUEUE)
        return _pool


def _lower_priority() -> None:
    """Linux keeps a nice value per thread: this pool thread's, raised by PASSWORD_NICENESS."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            me = threading.get_native_id()
            niceness = os.getpriority(os.PRIO_PROCESS, me) + PASSWORD_NICENESS
            os.setpriority(os.PRIO_PROCESS, me, min(niceness, 19))


def _hash(password: str) -> str:
    return _hasher.hash(password)


def _verify(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    """The argon2 hash of a new password, computed in the pool (PasswordsBusy when full)."""
    hashed: str = await asyncio.wrap_future(_password_pool().submit(_hash, password))
    return hashed


async def verify_password_async(password: str, password_hash: str | None) -> bool:
    """Whether the password matches (None: an unknown account, checked against a dummy hash
    all the same), computed in the pool (PasswordsBusy when full)."""
    matches: bool = await asyncio.wrap_future(
        _password_pool().submit(_verify, password, password_hash)
    )
    return matches


def hash_password(password: str) -> str:
    """hash_password_async for a caller off the event loop (a thread, the CLI): it blocks."""
    hashed: str = _password_pool().submit(_hash, password).result()
    return hashed


def verify_password(password: str, password_hash: str | None) -> bool:
    """verify_password_async for a caller off the event loop (a thread, the CLI): it blocks."""
    matches: bool = _password_pool().submit(_verify, password, password_hash).result()
    return matches


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid access token says: whose it is, its own id (to sign it out), the user's
    token version when it was issued (a password change raises it), and when it expires."""

    user_id: int
    token_id: str
    version: int
    expires_at: datetime


# 128 random bits, hex: the token's `jti`, recorded when it is signed out.
_TOKEN_ID_BYTES = 16
_TOKEN_ID_SHAPE = re.compile(r"[0-9a-f]{32}")


def create_access_token(user_id: int, secret: str, minutes: int, version: int = 0) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "jti": secrets.token_hex(_TOKEN_ID_BYTES),
        "ver": version,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_access_token(token: str, secret: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token; None for anything else, including tokens issued
    before tokens could be revoked (no `jti` or `ver`: their holders sign in again)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            options={"require": ["exp", "sub", "jti", "ver"]},
        )
        return _claims(claims)
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def _claims(claims: dict[str, Any]) -> TokenClaims | None:
    token_id, version = claims["jti"], claims["ver"]
    if not isinstance(token_id, str) or not _TOKEN_ID_SHAPE.fullmatch(token_id):
        return None
    if type(version) is not int:  # a bool is an int to isinstance
        return None
    expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    return TokenClaims(int(claims["sub"]), token_id, version, expires_at)
