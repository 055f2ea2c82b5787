"""Redis locks (redis-py's `Lock`) that keep one outbox drain and one rebuild running at a time.

A lock has a short TTL that a background task keeps renewing, so a holder that dies (SIGKILL, a
lost machine) frees it within seconds, not minutes. A holder that stalls past the TTL (SIGSTOP)
loses it; it must `check()` before each write it makes under the lock and give up if so.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, LockNotOwnedError, RedisError

log = logging.getLogger(__name__)

DEFAULT_TTL = 5.0  # seconds; renewed every third of it


class LockBusy(Exception):
    """Another holder has the lock."""


class LockLost(Exception):
    """This holder no longer has the lock (it stalled past the TTL, or Redis lost the key)."""


class HeldLock:
    def __init__(self, lock: Lock, name: str) -> None:
        self._lock = lock
        self.name = name
        self.lost = False

    async def check(self) -> None:
        """Raise LockLost unless this holder still has the lock."""
        if self.lost or not await self._lock.owned():
            self.lost = True
            raise LockLost(self.name)

    async def renew_forever(self, ttl: float) -> None:
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await self._lock.reacquire()
            except LockNotOwnedError:
                self.lost = True
                log.warning("lock %s expired while held; its holder stops", self.name)
                return
            except (RedisError, OSError) as exc:
                # A blip shorter than the TTL keeps the lock; a longer one loses it (noticed above).
                log.info("could not renew lock %s: %s", self.name, exc)

    async def release(self) -> None:
        try:
            await self._lock.release()
        except (LockError, RedisError, OSError) as exc:
            # Expired or Redis gone: either way the TTL frees it.
            log.info("lock %s not released (%s)", self.name, exc)


@asynccontextmanager
async def redis_lock(redis: Redis, name: str, ttl: float = DEFAULT_TTL) -> AsyncIterator[HeldLock]:
    """Hold `name` while the block runs (LockBusy if another holder has it)."""
    lock = redis.lock(f"marquee:lock:{name}", timeout=ttl, blocking=False, thread_local=False)
    if not await lock.acquire():
        raise LockBusy(name)
    held = HeldLock(lock, name)
    renewer = asyncio.create_task(held.renew_forever(ttl))
    try:
        yield held
    finally:
        renewer.cancel()
        await held.release()
