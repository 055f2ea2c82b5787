"""What jobs and operator commands share: settings, database, Redis and the Meilisearch client."""

from dataclasses import dataclass

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from meilisearch_python_sdk import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.cache import Cache
from api.db import make_engine, make_sessionmaker
from api.settings import Settings, get_settings
from indexer import make_client

# Index writes and reindexing are slower than searches; give them room.
WRITE_TIMEOUT_SECONDS = 30.0


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    meili: AsyncClient
    redis: ArqRedis | None

    @property
    def index(self) -> str:
        return self.settings.MEILI_INDEX

    @property
    def cache(self) -> Cache:
        return Cache(self.redis, self.settings.CACHE_TTL_SECONDS)

    async def close(self) -> None:
        await self.meili.aclose()
        await self.engine.dispose()


def redis_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.REDIS_URL)


async def open_resources(
    settings: Settings | None = None, redis: ArqRedis | None = None
) -> Resources:
    settings = settings or get_settings()
    engine = make_engine(settings.DATABASE_URL)
    meili = make_client(settings.MEILI_URL, settings.MEILI_MASTER_KEY, WRITE_TIMEOUT_SECONDS)
    return Resources(settings, engine, make_sessionmaker(engine), meili, redis)


async def connect_redis(settings: Settings, retries: int = 5) -> ArqRedis:
    redis = redis_settings(settings)
    redis.conn_retries = retries
    return await create_pool(redis)
