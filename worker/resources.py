"""What jobs and operator commands share: settings, database, Redis and the Meilisearch client."""

import asyncio
from dataclasses import dataclass, field

from arq import ArqRedis
from meilisearch_python_sdk import AsyncClient
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.cache import Cache
from api.db import make_engine, make_sessionmaker
from api.settings import Settings, get_settings
from indexer import make_client

# Index writes and reindexing are slower than searches; give them room.
WRITE_TIMEOUT_SECONDS = 30.0
# A Redis that stops answering (hung, not refusing) is an error after this, not a hang: the
# worker then restarts its loop instead of waiting on a dead socket.
QUEUE_TIMEOUT_SECONDS = 5.0


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    meili: AsyncClient
    redis: ArqRedis | None
    # Kept, not made per use: it keeps retrying invalidations that Redis missed.
    cache: Cache = field(init=False)
    _cache_redis: Redis | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.settings.CACHE_REDIS_URL:
            self._cache_redis = Redis.from_url(
                self.settings.CACHE_REDIS_URL,
                socket_timeout=QUEUE_TIMEOUT_SECONDS,
                socket_connect_timeout=QUEUE_TIMEOUT_SECONDS,
            )
        self.cache = Cache(self._cache_redis or self.redis, self.settings.CACHE_TTL_SECONDS)

    @property
    def index(self) -> str:
        return self.settings.MEILI_INDEX

    @property
    def people_index(self) -> str:
        return self.settings.people_index

    async def close(self) -> None:
        await self.meili.aclose()
        await self.engine.dispose()
        if self._cache_redis is not None:
            await self._cache_redis.aclose()


async def open_resources(
    settings: Settings | None = None, redis: ArqRedis | None = None
) -> Resources:
    settings = settings or get_settings()
    engine = make_engine(settings.DATABASE_URL)
    meili = make_client(settings.MEILI_URL, settings.MEILI_MASTER_KEY, WRITE_TIMEOUT_SECONDS)
    return Resources(settings, engine, make_sessionmaker(engine), meili, redis)


def queue_client(settings: Settings) -> ArqRedis:
    """The job queue's connection, from REDIS_URL with its options (rediss:// for TLS)."""
    return ArqRedis.from_url(
        settings.REDIS_URL,
        socket_timeout=QUEUE_TIMEOUT_SECONDS,
        socket_connect_timeout=QUEUE_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


async def connect_redis(settings: Settings, retries: int = 5) -> ArqRedis:
    """A queue connection that answered a PING, trying once a second `retries` more times."""
    redis = queue_client(settings)
    for _ in range(retries):
        try:
            await redis.ping()
            return redis
        except (RedisError, OSError):
            await asyncio.sleep(1.0)
    try:
        await redis.ping()
    except BaseException:
        await redis.aclose()
        raise
    return redis
