"""Redis locks that keep one outbox drain and one rebuild running at a time."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

# Only the holder (who knows the token) may release or extend a lock.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class LockBusy(Exception):
    pass


@asynccontextmanager
async def redis_lock(redis: Redis, name: str, ttl_ms: int = 30_000) -> AsyncIterator[None]:
    """Hold `name` while the block runs, renewing it so a long run keeps it; LockBusy if taken.
    The TTL frees the lock if the holder dies."""
    token = uuid.uuid4().hex
    key = f"marquee:lock:{name}"
    if not await redis.set(key, token, nx=True, px=ttl_ms):
        raise LockBusy(name)
    renewer = asyncio.create_task(_renew(redis, key, token, ttl_ms))
    try:
        yield
    finally:
        renewer.cancel()
        await redis.eval(_RELEASE, 1, key, token)  # type: ignore[misc]


async def _renew(redis: Redis, key: str, token: str, ttl_ms: int) -> None:
    while True:
        await asyncio.sleep(ttl_ms / 3000)
        await redis.eval(_EXTEND, 1, key, token, str(ttl_ms))  # type: ignore[misc]
