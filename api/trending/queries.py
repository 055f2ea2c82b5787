"""Trending reads: activity scores over a window, and the trending page with its popularity fill.

Popularity stays the imported TMDB figure and is never touched by users' activity: trending is
where activity shows. Movies without recent activity fill a trending page in popularity order,
so the page is never empty. Should popularity ever need to reflect activity, the trending cron
is the place to blend a movie's score into it; we keep the two apart so that imported
rankings stay reproducible and a burst of activity cannot rewrite a catalog field.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery
from sqlmodel import col

from api.movies.models import Movie
from api.movies.queries import movies_in_order
from api.pagination import PageParams
from api.trending.models import ActivityKind, MovieActivity, TrendingScore

WINDOWS = {"day": timedelta(days=1), "week": timedelta(days=7)}
WEIGHTS = {
    ActivityKind.REVIEW.value: 4.0,  # a review with text: a rating and some effort on top
    ActivityKind.RATING.value: 3.0,
    ActivityKind.FAVORITE.value: 2.0,
    ActivityKind.WATCHLIST.value: 1.0,
}
DECAY_STEPS = 24
HALF_LIFE_SHARE = 0.25  # of the window: a week's activity halves every 42 hours, a day's every 6


def _decay(length: timedelta, now: datetime, at: Any) -> ColumnElement[float]:
    """Recency decay in steps: each slice of the window weighs as an exponential at its middle.
    Steps keep it plain SQL: date arithmetic differs between MariaDB and SQLite."""
    step = length / DECAY_STEPS
    half_life = length * HALF_LIFE_SHARE
    whens = [
        (at >= now - step * (i + 1), 0.5 ** ((step * (i + 0.5)) / half_life))
        for i in range(DECAY_STEPS)
    ]
    return case(*whens, else_=0.0)


def activity_scores(window: str, now: datetime) -> Select[int, float]:
    """(movie_id, score) for the activity in the window ending at `now`; one user counts at
    most once per movie and kind (at their latest time)."""
    length = WINDOWS[window]
    movie_id, user_id, kind = (
        col(MovieActivity.movie_id),
        col(MovieActivity.user_id),
        col(MovieActivity.kind),
    )
    at = col(MovieActivity.created_at)
    latest = (
        select(movie_id, kind, func.max(at).label("last_at"))
        .where(at > now - length, at <= now)
        .group_by(movie_id, user_id, kind)
        .subquery("latest")
    )
    weight = case(WEIGHTS, value=latest.c.kind, else_=0.0)
    score = func.sum(weight * _decay(length, now, latest.c.last_at)).label("score")
    return select(latest.c.movie_id, score).group_by(latest.c.movie_id)


def stored_scores(window: str) -> Select[int, float]:
    stmt = select(col(TrendingScore.movie_id), col(TrendingScore.score))
    return stmt.where(col(TrendingScore.window) == window)


async def has_stored_scores(session: AsyncSession, window: str) -> bool:
    stmt = select(col(TrendingScore.movie_id)).where(col(TrendingScore.window) == window).limit(1)
    return (await session.execute(stmt)).first() is not None


async def page_trending(
    session: AsyncSession, window: str, now: datetime, params: PageParams
) -> tuple[int, list[dict[str, Any]]]:
    """Scored movies by score desc then id, then every other movie by popularity desc then id.
    Before the cron's first run for the window, scores are computed here (read-only). The page
    is rows of the movies' public fields with their list item's parts."""
    stored = await has_stored_scores(session, window)
    scores = (stored_scores(window) if stored else activity_scores(window, now)).subquery("scores")
    ranked = (await session.execute(select(func.count()).select_from(scores))).scalar_one()
    # Every scored movie exists (foreign keys cascade), so the combined ranking has them all.
    total = (await session.execute(select(func.count()).select_from(Movie))).scalar_one()
    ids = await _ranked_ids(session, scores, params.offset, params.per_page)
    if len(ids) < params.per_page:
        fill_offset = max(0, params.offset - ranked)
        ids += await _unranked_ids(session, scores, fill_offset, params.per_page - len(ids))
    return total, await movies_in_order(session, ids)


async def _ranked_ids(
    session: AsyncSession, scores: Subquery, offset: int, limit: int
) -> list[int]:
    stmt = (
        select(scores.c.movie_id)
        .order_by(scores.c.score.desc(), scores.c.movie_id.asc())
        .offset(offset)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def _unranked_ids(
    session: AsyncSession, scores: Subquery, offset: int, limit: int
) -> list[int]:
    stmt = (
        select(col(Movie.id))
        .where(col(Movie.id).not_in(select(scores.c.movie_id)))
        .order_by(col(Movie.popularity).desc(), col(Movie.id).asc())
        .offset(offset)
        .limit(limit)
    )
    return [
        movie_id for movie_id in (await session.execute(stmt)).scalars() if movie_id is not None
    ]
