"""Trending: scores from recorded activity, windows, decay, the popularity fill, the cron's work."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.movies.models import Movie
from api.trending.models import MovieActivity, TrendingScore
from api.trending.service import recompute_trending
from api.types import utcnow
from tests.api.conftest import Catalog, ids
from tests.conftest import MakeAccount


async def act(db: AsyncSession, movie: Movie, user_id: int | None, kind: str, at: datetime) -> None:
    row = {"movie_id": movie.id, "user_id": user_id, "kind": kind, "created_at": at}
    await db.execute(insert(MovieActivity).values(**row))


async def trending(client: AsyncClient, query: str = "") -> dict[str, Any]:
    response = await client.get(f"/movies/trending{query}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def users(make_account: MakeAccount) -> list[int]:
    return [(await make_account()).id for _ in range(3)]


class TestTrendingRanking:
    async def test_recorded_activity_ranks_before_popularity(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, make_account: MakeAccount
    ) -> None:
        quiet = await catalog.movie(popularity=900.0)
        rated = await catalog.movie(popularity=1.0)
        listed = await catalog.movie(popularity=2.0)
        for _ in range(2):
            who = await make_account()
            await client.post(f"/reviews/{rated.id}", json={"rating": 8}, headers=who.headers)
        await client.post(f"/watchlist/{listed.id}", headers=(await make_account()).headers)
        await recompute_trending(db, utcnow())
        await db.commit()
        got = ids(await trending(client))
        assert got[:2] == [rated.id, listed.id]
        assert quiet.id in got[2:]

    async def test_ties_on_score_break_by_id(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, users: list[int]
    ) -> None:
        now = utcnow()
        movies = [await catalog.movie() for _ in range(3)]
        for movie in reversed(movies):
            await act(db, movie, users[0], "favorite", now - timedelta(minutes=1))
        await recompute_trending(db, now)
        await db.commit()
        assert ids(await trending(client))[:3] == [m.id for m in movies]

    async def test_one_user_counts_once_per_movie_and_kind(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, users: list[int]
    ) -> None:
        now = utcnow()
        busy, shared = await catalog.movie(), await catalog.movie()
        for minutes in range(1, 6):
            await act(db, busy, users[0], "rating", now - timedelta(minutes=minutes))
        await act(db, shared, users[1], "rating", now - timedelta(minutes=3))
        await act(db, shared, users[2], "rating", now - timedelta(minutes=3))
        await recompute_trending(db, now)
        await db.commit()
        assert ids(await trending(client))[:2] == [shared.id, busy.id]

    async def test_recent_activity_outweighs_the_same_activity_days_ago(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, users: list[int]
    ) -> None:
        now = utcnow()
        old, recent = await catalog.movie(), await catalog.movie()
        await act(db, old, users[0], "review", now - timedelta(days=5))
        await act(db, recent, users[0], "review", now - timedelta(hours=1))
        await recompute_trending(db, now)
        await db.commit()
        assert ids(await trending(client))[:2] == [recent.id, old.id]

    async def test_day_and_week_windows_count_different_activity(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, users: list[int]
    ) -> None:
        now = utcnow()
        lasting = await catalog.movie(popularity=0.0)
        fresh = await catalog.movie(popularity=0.0)
        for user_id in users:
            await act(db, lasting, user_id, "rating", now - timedelta(days=3))
        await act(db, fresh, users[0], "watchlist", now - timedelta(minutes=5))
        await recompute_trending(db, now)
        await db.commit()
        assert ids(await trending(client, "?window=week"))[:2] == [lasting.id, fresh.id]
        day = ids(await trending(client, "?window=day"))
        assert day[0] == fresh.id and day.index(lasting.id) > 0
        assert ids(await trending(client))[:2] == [lasting.id, fresh.id]  # week by default

    async def test_activity_older_than_the_window_does_not_count(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, users: list[int]
    ) -> None:
        now = utcnow()
        stale = await catalog.movie()
        await act(db, stale, users[0], "favorite", now - timedelta(days=8))
        await recompute_trending(db, now)
        stored = (
            select(func.count())
            .select_from(TrendingScore)
            .where(TrendingScore.movie_id == stale.id)
        )
        assert (await db.execute(stored)).scalar_one() == 0


class TestTrendingBeforeTheFirstRecompute:
    async def test_scores_are_computed_on_the_fly(
        self, client: AsyncClient, catalog: Catalog, make_account: MakeAccount
    ) -> None:
        popular = await catalog.movie(popularity=500.0)
        liked = await catalog.movie(popularity=0.0)
        await client.post(f"/favorites/{liked.id}", headers=(await make_account()).headers)
        got = ids(await trending(client, "?window=day"))
        assert got[0] == liked.id
        assert popular.id in got

    async def test_without_any_activity_the_page_is_by_popularity(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        low, high = await catalog.movie(popularity=1.0), await catalog.movie(popularity=2.0)
        got = ids(await trending(client))
        assert got.index(high.id) < got.index(low.id)


class TestTrendingPages:
    async def test_pages_cover_the_combined_ranking_without_overlap(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, users: list[int]
    ) -> None:
        now = utcnow()
        movies = [await catalog.movie(popularity=float(i)) for i in range(5)]
        await act(db, movies[0], users[0], "rating", now - timedelta(hours=1))
        await act(db, movies[1], users[0], "watchlist", now - timedelta(hours=1))
        await recompute_trending(db, now)
        await db.commit()
        whole = await trending(client, "?per_page=100")
        paged: list[int] = []
        for page in range(1, whole["total_results"] // 2 + 3):  # one page past the end too
            paged += ids(await trending(client, f"?per_page=2&page={page}"))
        assert paged == ids(whole)
        assert whole["total_results"] == len(ids(whole))
        assert ids(whole)[:2] == [movies[0].id, movies[1].id]

    async def test_page_past_the_end_is_empty(self, client: AsyncClient, catalog: Catalog) -> None:
        await catalog.movie()
        body = await trending(client, "?page=100000")
        assert body["results"] == [] and body["total_results"] >= 1

    @pytest.mark.parametrize("query", ["?window=month", "?window=", "?per_page=0", "?page=0"])
    async def test_bad_parameters_return_422(self, client: AsyncClient, query: str) -> None:
        response = await client.get(f"/movies/trending{query}")
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"


class TestRecomputeTrending:
    async def test_replaces_scores_for_both_windows(
        self, db: AsyncSession, catalog: Catalog, users: list[int]
    ) -> None:
        now = utcnow()
        movie = await catalog.movie()
        await act(db, movie, users[0], "rating", now - timedelta(hours=2))
        assert await recompute_trending(db, now) == 2
        assert await recompute_trending(db, now) == 2
        stmt = select(TrendingScore.window, TrendingScore.score).where(
            TrendingScore.movie_id == movie.id
        )
        scores = dict((await db.execute(stmt)).all())
        assert set(scores) == {"day", "week"}
        assert 0 < scores["day"] < 3 and 0 < scores["week"] < 3

    async def test_drops_activity_older_than_thirty_days(
        self, db: AsyncSession, catalog: Catalog, users: list[int]
    ) -> None:
        now = utcnow()
        movie = await catalog.movie()
        await act(db, movie, users[0], "rating", now - timedelta(days=31))
        await act(db, movie, users[1], "rating", now - timedelta(days=29))
        await recompute_trending(db, now)
        left = (
            select(func.count())
            .select_from(MovieActivity)
            .where(MovieActivity.movie_id == movie.id)
        )
        assert (await db.execute(left)).scalar_one() == 1

    async def test_deleting_a_movie_removes_its_scores_and_activity(
        self,
        client: AsyncClient,
        db: AsyncSession,
        catalog: Catalog,
        users: list[int],
        make_account: MakeAccount,
    ) -> None:
        movie = await catalog.movie()
        await act(db, movie, users[0], "favorite", utcnow())
        await recompute_trending(db, utcnow() + timedelta(seconds=1))
        await db.commit()
        admin = await make_account(is_admin=True)
        assert (
            await client.delete(f"/movies/{movie.id}", headers=admin.headers)
        ).status_code == 204
        for table in (TrendingScore, MovieActivity):
            left = select(func.count()).select_from(table).where(table.movie_id == movie.id)  # type: ignore[attr-defined]
            assert (await db.execute(left)).scalar_one() == 0
