"""The arq worker: its jobs, crons and start-up, registered in one WorkerSettings."""

import logging
from datetime import timedelta
from typing import Any

from arq import Retry, cron

from api.cache import TRENDING
from api.search import queries
from api.trending.service import recompute_trending
from api.types import utcnow
from indexer import SearchFailed, SearchUnavailable
from worker import sync
from worker.locks import LockBusy
from worker.resources import Resources, open_resources

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
    except (SearchUnavailable, SearchFailed, ConnectionError, OSError) as exc:
        log.warning("outbox drain failed (%s); retrying", exc)
        raise Retry(defer=_backoff(ctx)) from exc


async def drain_outbox_cron(ctx: dict[str, Any]) -> int:
    """The safety net: whatever an enqueue missed (Redis down, a lost job) is drained here."""
    try:
        return await sync.drain(ctx["res"])
    except (LockBusy, SearchUnavailable, SearchFailed, ConnectionError, OSError) as exc:
        log.info("outbox cron skipped: %s", exc)
        return 0


async def reindex(ctx: dict[str, Any]) -> int:
    return await sync.rebuild_index(ctx["res"])


async def purge_outbox(ctx: dict[str, Any]) -> int:
    res: Resources = ctx["res"]
    async with res.sessionmaker() as session:
        removed = await queries.purge_processed(session, utcnow() - KEEP_PROCESSED)
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
    functions = [drain_outbox, reindex, purge_outbox]
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
