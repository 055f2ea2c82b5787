"""Engine and session factory, the per-request transaction, and after-commit hooks."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

AfterCommit = Callable[[], Awaitable[None]]


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_async_engine(
        url, pool_pre_ping=True, pool_recycle=1800, connect_args={"charset": "utf8mb4"}, **kwargs
    )


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(bind: Any, **kwargs: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, autoflush=False, **kwargs)


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run `hook` once the session's transaction has committed (never if it rolls back)."""
    session.info.setdefault("after_commit", []).append(hook)


async def run_after_commit(session: AsyncSession) -> None:
    hooks: list[AfterCommit] = session.info.pop("after_commit", [])
    session.info.pop("pending_jobs", None)
    session.info.pop("pending_scopes", None)
    # Together: each may wait out a hung Redis's timeout, and none depends on another.
    await asyncio.gather(*(hook() for hook in hooks))


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        # What after-commit hooks need: the job queue and the cache to invalidate.
        session.info.update(queue=request.app.state.redis, cache=request.app.state.cache)
        yield session
        await session.commit()
        await run_after_commit(session)


# scope="function": the commit happens before the response is sent, so a failed
# commit is an error response, never a 2xx followed by lost data.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
