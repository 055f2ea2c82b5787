"""The database is the truth and search follows it whatever fails: a hung Meilisearch, a Redis
killed under writes, a rebuild racing the worker. Each test drives real server processes."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from api.settings import Settings
from devstack.servers import Controlled
from tests.faults.conftest import (
    World,
    eventually,
    found,
    running_app,
    unique_index,
    worker_resources,
)
from tests.meili_fixtures import MeiliServer
from worker import sync

# The bounds these tests wait within add up past the default timeout (120 s): a failure should
# name the condition that never held, not be cut short by the timeout.
pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
# A write waits at most this long in these tests; with the old drain it waited for
# Meilisearch's HTTP timeout (30 s) while the engine hung.
WRITE_BOUND = 10.0


class TestHungMeilisearch:
    async def test_writes_complete_while_a_drain_waits_on_a_hung_engine(
        self,
        app: FastAPI,
        settings: Settings,
        world: World,
        fault_meili: tuple[Controlled, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        meili, key = fault_meili
        engine_settings = settings.model_copy(
            update={"MEILI_URL": meili.url, "MEILI_MASTER_KEY": key, "MEILI_INDEX": unique_index()}
        )
        admin = await world.admin()
        async with worker_resources(engine_settings) as res, running_app(settings) as (_, http):
            created = await http.post("/movies", json={"title": "Hangfast 0"}, headers=admin)
            movie_id = created.json()["id"]
            world.movie_ids.append(movie_id)

            calling = asyncio.Event()
            original = sync.sync_movies

            async def calls_meilisearch(*args: Any, **kwargs: Any) -> None:
                calling.set()
                await original(*args, **kwargs)

            monkeypatch.setattr(sync, "sync_movies", calls_meilisearch)
            meili.pause()
            try:
                drain = asyncio.create_task(sync.drain(res))
                await asyncio.wait_for(calling.wait(), WRITE_BOUND)
                for n in range(1, 6):
                    edit = http.patch(
                        f"/movies/{movie_id}", json={"title": f"Hangfast {n}"}, headers=admin
                    )
                    assert (await asyncio.wait_for(edit, WRITE_BOUND)).status_code == 200
                assert not drain.done(), "the engine hung throughout the writes"
            finally:
                meili.resume()
            await drain
            await sync.drain(res)
            assert await found(res, "Hangfast 5") == 1


class TestRedisKilledUnderWrites:
    async def test_the_worker_comes_back_and_indexes_every_write(
        self,
        settings: Settings,
        world: World,
        fault_redis: Controlled,
        meili_server: MeiliServer,
        tmp_path: Path,
    ) -> None:
        faulty = settings.model_copy(
            update={"REDIS_URL": fault_redis.url, "MEILI_INDEX": unique_index()}
        )
        admin = await world.admin()
        log_path = tmp_path / "worker.log"
        async with worker_resources(faulty) as res, running_app(faulty) as (_, http):
            worker = _start_worker(faulty, meili_server, log_path)
            try:
                await _create(http, world, admin, "Stormglass first")
                await eventually(lambda: _found_all(res, "Stormglass", 1))

                fault_redis.kill()
                for n in range(10):
                    await _create(http, world, admin, f"Stormglass {n}")
                # The worker has met the dead Redis (arq's own loop exits on it).
                await eventually(lambda: _met_dead_redis(worker, log_path))
                fault_redis.start()

                await eventually(lambda: _found_all(res, "Stormglass", 11))
                assert worker.poll() is None, "the worker is still running"
            finally:
                worker.terminate()
                worker.wait(timeout=30)


async def _create(http: AsyncClient, world: World, admin: dict[str, str], title: str) -> None:
    created = await http.post("/movies", json={"title": title}, headers=admin)
    assert created.status_code == 201, created.text
    world.movie_ids.append(created.json()["id"])


async def _found_all(res: Any, q: str, count: int) -> bool:
    return await found(res, q) == count


async def _met_dead_redis(worker: subprocess.Popen[bytes], log_path: Path) -> bool:
    log = await asyncio.to_thread(log_path.read_text, errors="replace")
    return worker.poll() is not None or "lost Redis" in log


def _start_worker(
    settings: Settings, meili: MeiliServer, log_path: Path
) -> subprocess.Popen[bytes]:
    """`marquee worker` as an operator runs it, on these settings."""
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.master_key,
        "MEILI_INDEX": settings.MEILI_INDEX,
        "SECRET_KEY": settings.SECRET_KEY,
        "CACHE_TTL_SECONDS": "0",
    }
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
