"""What a transaction asks to happen once it has committed: worker jobs to queue and cache
scopes to invalidate. One typed object per request transaction, run after its commit (never if
it rolls back); sessions without one (operator commands, jobs) leave it to the worker's crons."""

import asyncio
from dataclasses import dataclass, field

from arq import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from api.cache import Cache
from api.jobs import Job, enqueue

_KEY = "marquee.after_commit"


@dataclass
class AfterCommit:
    queue: ArqRedis | None
    cache: Cache | None
    jobs: set[Job] = field(default_factory=set)
    scopes: set[str] = field(default_factory=set)

    def attach(self, session: AsyncSession) -> None:
        session.info[_KEY] = self

    async def run(self) -> None:
        """Queue the jobs and bump the scopes, together: each may wait out a hung Redis's
        timeout, and none depends on another."""
        jobs, self.jobs = self.jobs, set()
        scopes, self.scopes = self.scopes, set()
        work = [enqueue(self.queue, job) for job in jobs if self.queue is not None]
        if scopes and self.cache is not None:
            work.append(self.cache.bump(scopes))
        await asyncio.gather(*work)


def after_commit(session: AsyncSession) -> AfterCommit | None:
    """The session's after-commit work, if it has any (request sessions do)."""
    found: AfterCommit | None = session.info.get(_KEY)
    return found


def queue_after_commit(session: AsyncSession, job: Job) -> None:
    if (work := after_commit(session)) is not None:
        work.jobs.add(job)


def invalidate_after_commit(session: AsyncSession, scopes: list[str]) -> None:
    """Bump these scopes once the session commits, before the response goes out."""
    if (work := after_commit(session)) is not None:
        work.scopes.update(scopes)
