"""Queueing worker jobs: requested during a transaction, sent to arq only after the commit."""

import logging
import uuid

from arq import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import after_commit

log = logging.getLogger(__name__)


async def enqueue(queue: ArqRedis, job: str, *args: object) -> bool:
    """Send a job now; a Redis outage is logged, not raised: the outbox cron catches up."""
    try:
        # A unique job id: arq drops a job whose id is already queued or recently done.
        await queue.enqueue_job(job, *args, _job_id=f"{job}:{uuid.uuid4().hex}")
    except Exception as exc:  # noqa: BLE001 - any Redis failure only delays the job
        log.warning("could not enqueue %s: %s", job, exc)
        return False
    return True


def enqueue_after_commit(session: AsyncSession, job: str, *args: object) -> None:
    """Queue `job` once this session commits (once per job and arguments per transaction).
    Sessions without a queue (operator commands) leave the work to the worker's cron."""
    queue: ArqRedis | None = session.info.get("queue")
    pending: set[tuple[object, ...]] = session.info.setdefault("pending_jobs", set())
    key = (job, *args)
    if queue is None or key in pending:
        return
    pending.add(key)

    async def _send() -> None:
        await enqueue(queue, job, *args)

    after_commit(session, _send)
