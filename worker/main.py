"""The arq worker: its jobs, crons and start-up, registered in one WorkerSettings."""

import asyncio
import contextlib
import logging
import signal
import threading
import time
from datetime import timedelta
from typing import Any

from arq import Retry, cron, func
from arq.worker import Worker, create_worker
from redis.exceptions import RedisError

from api import outbox
from api.cache import TRENDING
from api.jobs import Job, enqueue
from api.settings import Settings
from api.trending.service import recompute_trending
from api.types import utcnow
from indexer import SearchFailed, SearchUnavailable
from worker import sync
from worker.locks import LockBusy, LockLost
from worker.resources import Resources, connect_redis, open_resources

log = logging.getLogger(__name__)

MAX_TRIES = 12
KEEP_PROCESSED = timedelta(days=1)


def _backoff(ctx: dict[str, Any]) -> float:
    return float(min(2 ** (ctx.get("job_try", 1) - 1), 60))


async def drain_outbox(ctx: dict[str, Any]) -> int:
    """Index pending changes; retried with back-off while Meilisearch or the lock is busy."""
    try:
        return await sync.drain(ctx["res"])
    except LockBusy:
        # Another drain is running: retry shortly, so a change it has already passed by
        # does not wait for the cron.
        raise Retry(defer=0.2) from None
    except (LockLost, SearchUnavailable, SearchFailed, RedisError, OSError) as exc:
        log.warning("outbox drain failed (%s); retrying", exc)
        raise Retry(defer=_backoff(ctx)) from exc


async def drain_outbox_cron(ctx: dict[str, Any]) -> int:
    """The safety net: whatever an enqueue missed (Redis down, a lost job) is drained here."""
    try:
        return await sync.drain(ctx["res"])
    except (LockBusy, LockLost, SearchUnavailable, SearchFailed, RedisError, OSError) as exc:
        log.info("outbox cron skipped: %s", exc)
        return 0


async def reindex(ctx: dict[str, Any]) -> int:
    rebuilt = await sync.rebuild_index(ctx["res"])
    if rebuilt.replayed:
        await enqueue(ctx["redis"], Job.DRAIN_OUTBOX)  # the cron would, within 5 s
    return rebuilt.indexed


async def purge_outbox(ctx: dict[str, Any]) -> int:
    res: Resources = ctx["res"]
    async with res.sessionmaker() as session:
        removed = await outbox.purge_processed(session, utcnow() - KEEP_PROCESSED)
        await session.commit()
    return removed


async def recompute_trending_cron(ctx: dict[str, Any]) -> int:
    res: Resources = ctx["res"]
    async with res.sessionmaker() as session:
        written = await recompute_trending(session, utcnow())
        await session.commit()
    await res.cache.bump([TRENDING])
    return written


async def startup(ctx: dict[str, Any]) -> None:
    # ctx["settings"] lets a test (or an embedding program) run the worker on its own settings.
    res = await open_resources(ctx.get("settings"), redis=ctx["redis"])
    ctx["res"] = res
    try:
        await sync.prepare_index(res)
    except (SearchUnavailable, SearchFailed) as exc:
        log.error("Meilisearch not ready at start-up (%s); the drain will retry", exc)


async def shutdown(ctx: dict[str, Any]) -> None:
    if "res" in ctx:
        await ctx["res"].close()


class WorkerSettings:
    # Registered under the names the API queues them by (api.jobs.Job).
    functions = [
        func(drain_outbox, name=Job.DRAIN_OUTBOX.value),
        func(reindex, name=Job.REINDEX.value),
        func(purge_outbox, name=Job.PURGE_OUTBOX.value),
    ]
    cron_jobs = [
        cron(drain_outbox_cron, second=set(range(0, 60, 5)), run_at_startup=True, timeout=600),
        cron(purge_outbox, hour={4}, minute={0}, second={0}),
        cron(recompute_trending_cron, second={30}, run_at_startup=True, timeout=120),
    ]
    on_startup = startup
    on_shutdown = shutdown
    max_tries = MAX_TRIES
    poll_delay = 0.1  # seconds between queue polls: part of write-to-searchable latency
    job_timeout = 3600


# After losing Redis the worker starts again after this many seconds, doubling up to the most
# while Redis stays away; a worker that then ran this long starts the next time from the least.
RESTART_DELAYS = (0.5, 10.0)
STABLE_SECONDS = 30.0


async def run(settings: Settings) -> None:
    """Run the worker until SIGTERM or SIGINT, starting it again whenever it stops on a lost
    Redis: arq's own loop exits on a connection error and nothing would restart it. A stop
    request is also remembered apart from the cancellation it sends: a cancellation that
    arq's loop swallows (it happened, once, under load) must not start the worker again."""
    stopping = asyncio.Event()
    cancel_on_sigterm(stopping)
    delay = RESTART_DELAYS[0]
    while not stopping.is_set():
        started = time.monotonic()
        try:
            await _run_once(settings)
        except (RedisError, OSError) as exc:
            if time.monotonic() - started > STABLE_SECONDS:
                delay = RESTART_DELAYS[0]
            log.error("worker lost Redis (%s); starting again in %.1f s", exc, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)
        delay = min(delay * 2, RESTART_DELAYS[1])


def cancel_on_sigterm(stopping: asyncio.Event | None = None) -> None:
    """SIGTERM cancels the running task, as asyncio.run does for SIGINT: cleanup runs (an
    unfinished drain or rebuild is left as if it never started); `stopping`, when given, is
    set too. Main thread only."""
    task = asyncio.current_task()
    if task is None or threading.current_thread() is not threading.main_thread():
        return

    def stop() -> None:
        if stopping is not None:
            stopping.set()
        task.cancel()

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)


async def _run_once(settings: Settings) -> None:
    redis = await connect_redis(settings, retries=0)
    worker = create_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_pool=redis,
        ctx={"settings": settings},
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await _stop(worker)
        await redis.aclose()


async def _stop(worker: Worker) -> None:
    """Cancel its jobs (an unfinished drain leaves its entries pending) and close what its
    start-up opened; nothing here may wait on the Redis that was just lost."""
    for task in worker.tasks.values():
        task.cancel()
    await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    await shutdown(worker.ctx)
