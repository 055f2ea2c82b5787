"""Fault fixtures: a Redis and a Meilisearch of the test's own, which it may hang (SIGSTOP),
kill and start again, and an app on committed data (the faults are about separate connections
and processes, so nothing here runs on the per-test rolled-back transaction)."""

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from api.main import create_app
from api.settings import Settings
from api.users.security import create_access_token
from api.users.service import ensure_admin
from devstack.servers import Controlled, controlled_meilisearch, controlled_redis
from indexer import ensure_settings, search_movies
from tests.api.committed import Committed
from tests.conftest import SECRET
from tests.meili_fixtures import drop_indexes
from worker.resources import Resources, connect_redis, open_resources

# Generous bounds for conditions a fault test waits for: a failure here means "never", not "slow".
CATCH_UP_SECONDS = 60.0


@pytest.fixture
def fault_redis(tmp_path: Path) -> Iterator[Controlled]:
    server = controlled_redis(tmp_path / "redis")
    yield server
    server.stop()


@pytest.fixture
def fault_meili(tmp_path: Path) -> Iterator[tuple[Controlled, str]]:
    key = secrets.token_hex(16)
    server = controlled_meilisearch(tmp_path / "meili", key)
    yield server, key
    server.stop()


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = CATCH_UP_SECONDS
) -> None:
    """Wait until `check()` holds; fail if it still does not after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"still not true after {within} s"
        await asyncio.sleep(0.1)


@asynccontextmanager
async def running_app(
    settings: Settings, **changes: Any
) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    app = create_app(settings.model_copy(update=changes))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield app, http


@asynccontextmanager
async def worker_resources(settings: Settings) -> AsyncIterator[Resources]:
    """What the worker's jobs use, on the settings' own index (created here, dropped after)."""
    res = await open_resources(settings, redis=await connect_redis(settings, retries=0))
    await ensure_settings(res.meili, res.index)
    try:
        yield res
    finally:
        await drop_indexes(res.meili, res.index)
        assert res.redis is not None
        await res.redis.aclose()
        await res.close()


async def found(res: Resources, q: str) -> int:
    return (await search_movies(res.meili, res.index, q, None, None, 1, 1)).total


class World(Committed):
    """Committed movies and admins; removed (with their outbox rows) at the end."""

    async def admin(self) -> dict[str, str]:
        async with self.sessionmaker() as session:
            email = f"fault-{uuid.uuid4().hex[:10]}@example.com"
            user = await ensure_admin(session, email, "password123")
            await session.commit()
        assert user.id is not None
        self.user_ids.append(user.id)
        return {"Authorization": f"Bearer {create_access_token(user.id, SECRET, 60)}"}


@pytest.fixture
async def world(app: FastAPI) -> AsyncIterator[World]:
    committed = World(app.state.sessionmaker)
    yield committed
    await committed.cleanup()


def unique_index() -> str:
    return f"fault_{uuid.uuid4().hex[:10]}"
