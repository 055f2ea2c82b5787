"""Trending decisions: recording users' activity and recomputing the scores. Never commits."""

from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.trending.models import ActivityKind, MovieActivity, TrendingScore
from api.trending.queries import WINDOWS, activity_scores
from api.types import utcnow

# Older activity counts in no window; kept a while for inspection, then dropped by the cron.
KEEP_ACTIVITY = timedelta(days=30)


async def record_activity(
    session: AsyncSession, movie_id: int, user_id: int | None, kind: ActivityKind
) -> None:
    row = {"movie_id": movie_id, "user_id": user_id, "kind": kind.value, "created_at": utcnow()}
    await session.execute(insert(MovieActivity).values(**row))


async def recompute_trending(session: AsyncSession, now: datetime) -> int:
    """Replace every window's scores with those of the activity up to `now`; returns how many
    scores were written. Also drops activity older than KEEP_ACTIVITY."""
    written = 0
    for window in WINDOWS:
        # Read first, then write: an INSERT ... SELECT would lock the activity rows it reads
        # (and the gap after them), stalling every rating and list add while it runs.
        rows = (await session.execute(activity_scores(window, now))).all()
        await session.execute(delete(TrendingScore).where(col(TrendingScore.window) == window))
        if rows:
            scores = [
                {"window": window, "movie_id": movie_id, "score": score, "computed_at": now}
                for movie_id, score in rows
            ]
            await session.execute(insert(TrendingScore), scores)
        written += len(rows)
    old = col(MovieActivity.created_at) < now - KEEP_ACTIVITY
    await session.execute(delete(MovieActivity).where(old))
    return written
