"""The /3 movie lists (popular, top_rated, upcoming, now_playing), trending and the legacy
genre list, in process on the test database: TMDB's envelope, order, windows and errors."""

from httpx import AsyncClient
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.settings import Settings
from api.trending.models import TrendingScore
from api.types import utcnow
from tests.api.conftest import Catalog, days, ids
from tests.tmdb.test_movies import get, refused

# Above any popularity other tests give: these movies lead the lists they are in.
TOP = 900_000.0


class TestPopularAndTopRated:
    async def test_popular_is_most_popular_first_in_tmdbs_envelope(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        second = await catalog.movie(popularity=TOP + 1, genres=[genre], vote_count=11800)
        first = await catalog.movie(popularity=TOP + 2)
        body = await get(client, "/3/movie/popular", api_key)
        assert ids(body)[:2] == [first.id, second.id]
        assert set(body) >= {"page", "results", "total_pages", "total_results"}
        assert "per_page" not in body and "dates" not in body
        assert body["page"] == 1 and body["total_pages"] == -(-body["total_results"] // 20)
        item = body["results"][1]
        assert item["genre_ids"] == [genre.id] and item["vote_count"] == 11800
        assert "media_type" not in item  # only where TMDB mixes media types
        assert (item["adult"], item["video"]) == (False, False)

    async def test_popular_pages_hold_20_and_never_overlap(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        made = [await catalog.movie(popularity=TOP) for _ in range(25)]
        one = await get(client, "/3/movie/popular", api_key, page=1)
        two = await get(client, "/3/movie/popular", api_key, page=2)
        assert len(one["results"]) == 20 and two["page"] == 2
        assert not set(ids(one)) & set(ids(two))
        assert {m.id for m in made} <= set(ids(one)) | set(ids(two))

    async def test_a_page_past_the_end_is_empty_with_the_true_totals(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        await catalog.movie()
        body = await get(client, "/3/movie/popular", api_key, page=500)
        assert body["results"] == [] and body["page"] == 500
        assert body["total_results"] >= 1

    async def test_a_bad_page_is_400_code_22(self, client: AsyncClient, api_key: str) -> None:
        for page in ("0", "501", "x"):
            assert await refused(client, "/3/movie/top_rated", api_key, page=page) == (400, 22)

    async def test_top_rated_keeps_movies_with_enough_votes_best_first(
        self, client: AsyncClient, api_key: str, catalog: Catalog, settings: Settings
    ) -> None:
        votes = settings.TOP_RATED_MIN_VOTES
        good = await catalog.movie(vote_average=9.7, vote_count=votes)
        best = await catalog.movie(vote_average=9.8, vote_count=votes + 5)
        few = await catalog.movie(vote_average=9.9, vote_count=max(votes - 1, 0))
        body = await get(client, "/3/movie/top_rated", api_key)
        assert ids(body)[:2] == [best.id, good.id]
        assert body["results"][0]["vote_average"] == 9.8
        if votes > 0:
            assert few.id not in ids(body)


class TestDatedLists:
    async def test_upcoming_is_the_window_most_popular_first_with_its_dates(
        self, client: AsyncClient, api_key: str, catalog: Catalog, settings: Settings
    ) -> None:
        window = settings.UPCOMING_WINDOW_DAYS
        soon = await catalog.movie(release_date=days(1), popularity=TOP)
        later = await catalog.movie(release_date=days(window), popularity=TOP + 1)
        today = await catalog.movie(release_date=days(0), popularity=TOP + 2)
        beyond = await catalog.movie(release_date=days(window + 1), popularity=TOP + 3)
        body = await get(client, "/3/movie/upcoming", api_key)
        assert body["dates"] == {
            "maximum": days(window).isoformat(),
            "minimum": days(1).isoformat(),
        }
        assert ids(body)[:2] == [later.id, soon.id]
        assert today.id not in ids(body) and beyond.id not in ids(body)

    async def test_now_playing_is_the_window_up_to_today_with_its_dates(
        self, client: AsyncClient, api_key: str, catalog: Catalog, settings: Settings
    ) -> None:
        window = settings.NOW_PLAYING_WINDOW_DAYS
        oldest = await catalog.movie(release_date=days(-window), popularity=TOP + 2)
        today = await catalog.movie(release_date=days(0), popularity=TOP + 1)
        tomorrow = await catalog.movie(release_date=days(1), popularity=TOP + 3)
        too_old = await catalog.movie(release_date=days(-window - 1), popularity=TOP + 4)
        body = await get(client, "/3/movie/now_playing", api_key)
        assert body["dates"] == {
            "maximum": days(0).isoformat(),
            "minimum": days(-window).isoformat(),
        }
        assert ids(body)[:2] == [oldest.id, today.id]
        assert tomorrow.id not in ids(body) and too_old.id not in ids(body)


class TestTrending:
    async def _scored(self, db: AsyncSession, catalog: Catalog, window: str) -> int:
        """A movie of little popularity with the window's top score: it leads the window."""
        movie = await catalog.movie(popularity=0.5)
        score = {"window": window, "movie_id": movie.id, "score": 1e9, "computed_at": utcnow()}
        await db.execute(insert(TrendingScore).values(**score))
        await db.commit()
        assert movie.id is not None
        return movie.id

    async def test_trending_movies_lead_with_the_windows_scores_and_carry_media_type(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        daily = await self._scored(db, catalog, "day")
        weekly = await self._scored(db, catalog, "week")
        day = await get(client, "/3/trending/movie/day", api_key)
        week = await get(client, "/3/trending/movie/week", api_key)
        assert ids(day)[0] == daily and ids(week)[0] == weekly
        assert all(item["media_type"] == "movie" for item in day["results"])
        assert isinstance(day["results"][0]["genre_ids"], list)

    async def test_trending_all_is_the_movies_with_media_type(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        daily = await self._scored(db, catalog, "day")
        body = await get(client, "/3/trending/all/day", api_key)
        assert ids(body)[0] == daily and body["results"][0]["media_type"] == "movie"
        assert body == await get(client, "/3/trending/movie/day", api_key)

    async def test_trending_people_and_tv_are_empty_pages(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        await catalog.movie()
        empty = {"page": 1, "results": [], "total_pages": 1, "total_results": 0}
        for path in ("/3/trending/person/day", "/3/trending/tv/week"):
            assert await get(client, path, api_key) == empty

    async def test_an_unknown_window_or_media_type_is_404_code_34(
        self, client: AsyncClient, api_key: str
    ) -> None:
        for path in ("movie/month", "all/year", "person/hour", "tv/x", "film/day"):
            assert await refused(client, f"/3/trending/{path}", api_key) == (404, 34)

    async def test_a_bad_trending_page_is_400_code_22(
        self, client: AsyncClient, api_key: str
    ) -> None:
        assert await refused(client, "/3/trending/movie/day", api_key, page=0) == (400, 22)


class TestLegacyGenreMovies:
    async def test_a_genres_movies_most_popular_first_with_its_id(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        low = await catalog.movie(genres=[genre], popularity=1.0)
        high = await catalog.movie(genres=[genre], popularity=2.0)
        await catalog.movie(popularity=3.0)
        body = await get(client, f"/3/genre/{genre.id}/movies", api_key)
        assert body["id"] == genre.id and ids(body) == [high.id, low.id]
        assert body["total_results"] == 2

    async def test_an_unknown_genre_is_404_code_34(self, client: AsyncClient, api_key: str) -> None:
        assert await refused(client, "/3/genre/2147483000/movies", api_key) == (404, 34)
        assert await refused(client, "/3/genre/99999999999999/movies", api_key) == (404, 34)
