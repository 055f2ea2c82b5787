"""`marquee reindex` and `marquee reindex --enqueue`, run as an operator would."""

import asyncio
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from api.movies.models import Movie
from api.outbox import pending_count, record_changes
from api.settings import Settings, get_settings
from indexer.rebuild import build_prefix
from tests.meili_fixtures import drop_indexes
from tests.search.conftest import index_count
from worker import sync
from worker.cli import app
from worker.locks import redis_lock
from worker.resources import connect_redis, open_resources


@pytest.fixture
def operator_env(sample_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The environment of an operator's shell, pointing at the sample test database."""
    settings = sample_settings.model_copy(update={"MEILI_INDEX": f"cli_{uuid.uuid4().hex[:8]}"})
    for name in ("DATABASE_URL", "REDIS_URL", "MEILI_URL", "MEILI_MASTER_KEY", "MEILI_INDEX"):
        monkeypatch.setenv(name, str(getattr(settings, name)))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


async def invoke(*args: str) -> Result:
    # The command runs its own event loop, so it runs in a thread beside the test's.
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


ROOT = Path(__file__).resolve().parents[2]


class TestReindexCommand:
    async def test_reindex_builds_the_whole_index(self, operator_env: Settings) -> None:
        res = await open_resources(operator_env)
        try:
            result = await invoke("reindex")
            assert result.exit_code == 0, result.output
            async with res.sessionmaker() as session:
                from api.search.queries import count_movies

                expected = await count_movies(session)
            assert f"reindexed {expected} movies" in result.output
            assert await index_count(res.meili, operator_env.MEILI_INDEX) == expected
        finally:
            await drop_indexes(res.meili, operator_env.MEILI_INDEX)
            await res.close()

    async def test_changes_are_left_to_a_draining_worker_and_the_command_says_so(
        self, operator_env: Settings
    ) -> None:
        res = await open_resources(operator_env, redis=await connect_redis(operator_env))
        assert res.redis is not None
        try:
            async with res.sessionmaker() as session:
                [movie_id] = (await session.execute(select(Movie.id).limit(1))).scalars()
                await record_changes(session, [movie_id])
                await session.commit()
            async with redis_lock(res.redis, f"drain:{res.index}"):  # the worker is draining
                result = await invoke("reindex")
            assert result.exit_code == 0, result.output
            flat = " ".join(result.output.split())  # the console wraps long lines
            assert "changed during the rebuild (or just before it): queued; the worker is" in flat
            await sync.drain(res)  # its next drain
            async with res.sessionmaker() as session:
                assert await pending_count(session) == 0
        finally:
            await drop_indexes(res.meili, operator_env.MEILI_INDEX)
            await res.redis.aclose()
            await res.close()

    async def test_a_reindex_stopped_midway_says_so_and_leaves_nothing_behind(
        self, operator_env: Settings
    ) -> None:
        res = await open_resources(operator_env)
        try:
            assert (await invoke("reindex")).exit_code == 0
            live = await index_count(res.meili, operator_env.MEILI_INDEX)
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "worker.cli", "reindex"),
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            await _wait_for_a_build(res.meili, operator_env.MEILI_INDEX, process)
            process.send_signal(signal.SIGSTOP)  # hold it mid-rebuild while the signal is sent
            process.send_signal(signal.SIGTERM)
            process.send_signal(signal.SIGCONT)
            output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
            assert process.returncode == 1, output
            assert "reindex interrupted: the live index is unchanged" in output
            assert "Traceback" not in output
            assert await _builds(res.meili, operator_env.MEILI_INDEX) == []
            assert await index_count(res.meili, operator_env.MEILI_INDEX) == live
        finally:
            await drop_indexes(res.meili, operator_env.MEILI_INDEX)
            await res.close()

    async def test_enqueue_hands_the_rebuild_to_the_worker(self, operator_env: Settings) -> None:
        result = await invoke("reindex", "--enqueue")
        assert result.exit_code == 0, result.output
        job_id = result.output.split("(job ")[1].split(")")[0]
        redis = await connect_redis(operator_env)
        try:
            queued = {job.job_id: job.function for job in await redis.queued_jobs()}
            assert queued.get(job_id) == "reindex"
        finally:
            await redis.zrem("arq:queue", job_id)
            await redis.delete(f"arq:job:{job_id}")
            await redis.aclose()


async def _builds(client: Any, uid: str) -> list[str]:
    indexes = await client.get_raw_indexes(limit=1000) or []
    return [info.uid for info in indexes if info.uid.startswith(build_prefix(uid))]


async def _wait_for_a_build(client: Any, uid: str, process: asyncio.subprocess.Process) -> None:
    while not await _builds(client, uid):
        assert process.returncode is None, "the reindex ended before its build index was seen"
        await asyncio.sleep(0.01)
