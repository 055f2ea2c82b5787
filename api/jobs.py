"""Worker job names, and sending a job to the queue (arq on Redis)."""

import logging
import uuid
from enum import StrEnum

from arq import ArqRedis

log = logging.getLogger(__name__)


class Job(StrEnum):
    """The jobs the worker runs (worker.main registers a function under each name)."""

    DRAIN_OUTBOX = "drain_outbox"
    REINDEX = "reindex"
    PURGE_OUTBOX = "purge_outbox"


async def enqueue(queue: ArqRedis, job: Job, *args: object) -> str | None:
    """Send a job now; its id, or None when Redis failed (logged, not raised: the outbox cron
    catches up)."""
    try:
        # A unique job id: arq drops a job whose id is already queued or recently done.
        queued = await queue.enqueue_job(job.value, *args, _job_id=f"{job}:{uuid.uuid4().hex}")
    except Exception as exc:  # noqa: BLE001 - any Redis failure only delays the job
        log.warning("could not enqueue %s: %s", job, exc)
        return None
    return queued.job_id if queued is not None else None
