"""The four TMDB clients (tmdbsimple, tmdbv3api, themoviedb sync and async, tmdbapis), from
PyPI and unmodified, through their own public APIs against a real Marquee on the TMDB 5000
catalog (tests.tmdb.live.tmdb_server), pointed at it as TMDB_V3.md section 2 says: movie
details with each client's default appends, credits and the director, the four lists,
trending, similar and recommendations, reviews. The lists are checked against Marquee's own
native answers on the same server."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import tmdbsimple
import tmdbv3api
from sqlalchemy import delete
from sqlmodel import col
from themoviedb import TMDb as MovieDb
from themoviedb import aioTMDb as AioMovieDb
from themoviedb.exceptions import TMDbHTTPError
from tmdbapis import TMDbAPIs
from tmdbapis.exceptions import NotFound
from tmdbv3api.exceptions import TMDbException

from api.db import make_engine
from api.settings import Settings
from api.trending.models import MovieActivity
from tests.tmdb.clients import TIMEOUT, v3_pointed
from tests.tmdb.live import CatalogServer, in_thread, pointed, refused

AVATAR, INCEPTION, DARK_KNIGHT = 19995, 27205, 155
NOLAN, CAMERON = 525, 2710


async def native_ids(server: CatalogServer, path: str, **params: Any) -> list[int]:
    """The ids of Marquee's own native list (20 a page, as TMDB's)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as http:
        response = await http.get(path, params={"per_page": 20, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["results"]]


def director_ids(crew: list[Any], job: str = "job", person: str = "id") -> list[int]:
    """Clients find directors by `job`: dicts (tmdbsimple) or objects (the others)."""
    read = (lambda c, k: c[k]) if crew and isinstance(crew[0], dict) else getattr
    return [read(c, person) for c in crew if read(c, job) == "Director"]


@pytest.fixture
async def reviewed(tmdb_server: CatalogServer, tmdb_settings: Settings) -> AsyncIterator[int]:
    """A review (8/10, with text) of The Dark Knight by the server's account, through the native
    API; removed after, with the trending activity it recorded, and the movie's votes checked
    back to exactly what they were."""
    async with httpx.AsyncClient(base_url=tmdb_server.url, timeout=TIMEOUT) as http:
        login = {"username": tmdb_server.email, "password": tmdb_server.password}
        token = (await http.post("/auth/token", data=login)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        before = (await http.get(f"/movies/{DARK_KNIGHT}")).json()
        body = {"rating": 8.0, "content": "Why so serious?"}
        made = await http.post(f"/reviews/{DARK_KNIGHT}", json=body, headers=headers)
        assert made.status_code == 201, made.text
        try:
            yield int(made.json()["id"])
        finally:
            gone = await http.delete(f"/reviews/{DARK_KNIGHT}", headers=headers)
            await _forget_activity(tmdb_settings, tmdb_server.user_id)
            after = (await http.get(f"/movies/{DARK_KNIGHT}")).json()
    assert gone.status_code == 204
    assert (after["vote_average"], after["vote_count"]) == (
        before["vote_average"],
        before["vote_count"],
    )


async def _forget_activity(settings: Settings, user_id: int) -> None:
    engine = make_engine(settings.DATABASE_URL)
    try:
        async with engine.begin() as conn:
            await conn.execute(delete(MovieActivity).where(col(MovieActivity.user_id) == user_id))
    finally:
        await engine.dispose()


class TestTmdbsimple:
    async def test_details_with_appends_read_the_whole_record(self, simple: CatalogServer) -> None:
        movie = pointed(tmdbsimple.Movies(AVATAR), simple)
        appends = "credits,images,videos,reviews,keywords,release_dates,external_ids"
        body = await in_thread(lambda: movie.info(append_to_response=appends))
        assert (body["title"], body["release_date"]) == ("Avatar", "2009-12-10")
        assert (body["budget"], body["revenue"]) == (237_000_000, 2_787_965_087)
        assert 28 in [g["id"] for g in body["genres"]]
        assert "Sam Worthington" in [c["name"] for c in body["credits"]["cast"]]
        assert CAMERON in director_ids(body["credits"]["crew"])
        assert "culture clash" in [k["name"] for k in body["keywords"]["keywords"]]
        assert body["images"]["posters"][0]["file_path"] == body["poster_path"]
        assert body["videos"] == {"results": []} and body["reviews"]["page"] == 1
        assert movie.title == "Avatar"  # tmdbsimple sets the answer's keys on the object

    async def test_credits_find_the_director_by_job(self, simple: CatalogServer) -> None:
        body = await in_thread(pointed(tmdbsimple.Movies(INCEPTION), simple).credits)
        assert director_ids(body["crew"]) == [NOLAN]
        assert body["cast"][0]["name"] == "Leonardo DiCaprio" and body["id"] == INCEPTION
        departments = {c["department"] for c in body["crew"]}
        assert {"Directing", "Writing", "Camera"} <= departments

    async def test_the_four_lists_are_marquees_native_lists(self, simple: CatalogServer) -> None:
        movies = pointed(tmdbsimple.Movies(), simple)
        popular = await in_thread(lambda: movies.popular(page=2))
        assert [m["id"] for m in popular["results"]] == await native_ids(
            simple, "/movies/popular", page=2
        )
        top = await in_thread(movies.top_rated)
        assert [m["id"] for m in top["results"]] == await native_ids(simple, "/movies/top-rated")
        for dated in (movies.upcoming, movies.now_playing):
            body = await in_thread(dated)
            assert set(body["dates"]) == {"maximum", "minimum"}
            assert body["total_results"] == len(body["results"]) == 0  # TMDB 5000 ends in 2017

    async def test_trending_defaults_to_all_day_with_media_types(
        self, simple: CatalogServer
    ) -> None:
        body = await in_thread(pointed(tmdbsimple.Trending(), simple).info)
        assert [m["id"] for m in body["results"]] == await native_ids(
            simple, "/movies/trending", window="day"
        )
        assert {m["media_type"] for m in body["results"]} == {"movie"}
        week = pointed(tmdbsimple.Trending("movie", "week"), simple)
        weekly = await in_thread(week.info)
        assert len(weekly["results"]) == 20

    async def test_similar_movies_and_recommendations_lead_with_the_directors_films(
        self, simple: CatalogServer
    ) -> None:
        movie = pointed(tmdbsimple.Movies(INCEPTION), simple)
        similar = await in_thread(movie.similar_movies)
        assert DARK_KNIGHT in [m["id"] for m in similar["results"][:5]]
        assert INCEPTION not in [m["id"] for m in similar["results"]]
        recommended = await in_thread(movie.recommendations)
        assert recommended["results"] == similar["results"] and recommended["id"] == INCEPTION

    async def test_legacy_releases(self, simple: CatalogServer) -> None:
        body = await in_thread(pointed(tmdbsimple.Movies(AVATAR), simple).releases)
        assert body["countries"][0]["release_date"] == "2009-12-10"

    async def test_reviews_of_marquee_users(self, simple: CatalogServer, reviewed: int) -> None:
        body = await in_thread(pointed(tmdbsimple.Movies(DARK_KNIGHT), simple).reviews)
        [review] = body["results"]
        assert review["id"] == str(reviewed) and review["author_details"]["rating"] == 8
        assert review["content"] == "Why so serious?" and review["author"] == "Client"

    async def test_an_unknown_movie_raises_with_404_code_34(self, simple: CatalogServer) -> None:
        response = await in_thread(
            lambda: refused(pointed(tmdbsimple.Movies(2_000_000_000), simple).info)
        )
        assert response.status_code == 404 and response.json()["status_code"] == 34


class TestTmdbv3api:
    async def test_details_with_its_default_appends(self, v3: CatalogServer) -> None:
        details = await in_thread(lambda: v3_pointed(tmdbv3api.Movie(), v3).details(AVATAR))
        assert (details.id, details.title, details.budget) == (AVATAR, "Avatar", 237_000_000)
        assert "Sam Worthington" in [c.name for c in details.casts.cast]
        assert CAMERON in director_ids(list(details.casts.crew))
        assert "culture clash" in [k.name for k in details.keywords.keywords]
        assert details.release_dates.results[0].iso_3166_1 == "US"
        assert details.images.posters[0].file_path == details.poster_path
        assert len(details.trailers.youtube) == 0 and len(details.translations.translations) == 0

    async def test_credits_find_the_director_by_job(self, v3: CatalogServer) -> None:
        credits = await in_thread(lambda: v3_pointed(tmdbv3api.Movie(), v3).credits(INCEPTION))
        assert director_ids(list(credits.crew)) == [NOLAN]

    async def test_the_four_lists(self, v3: CatalogServer) -> None:
        movie = v3_pointed(tmdbv3api.Movie(), v3)
        popular = await in_thread(movie.popular)
        assert [m.id for m in popular] == await native_ids(v3, "/movies/popular")
        assert popular.total_pages == -(-popular.total_results // 20)
        top = await in_thread(movie.top_rated)
        assert [m.id for m in top] == await native_ids(v3, "/movies/top-rated")
        upcoming = await in_thread(movie.upcoming)
        assert upcoming.dates.minimum < upcoming.dates.maximum and len(upcoming) == 0
        playing = await in_thread(movie.now_playing)
        assert playing.dates.minimum < playing.dates.maximum

    async def test_trending_movies_by_day_and_week(self, v3: CatalogServer) -> None:
        trending = v3_pointed(tmdbv3api.Trending(), v3)
        day = await in_thread(trending.movie_day)
        assert [m.id for m in day.results] == await native_ids(v3, "/movies/trending", window="day")
        assert all(m.media_type == "movie" for m in day.results)
        week = await in_thread(trending.movie_week)
        assert len(week.results) == 20

    async def test_similar_recommendations_and_reviews(
        self, v3: CatalogServer, reviewed: int
    ) -> None:
        movie = v3_pointed(tmdbv3api.Movie(), v3)
        similar = await in_thread(lambda: movie.similar(INCEPTION))
        assert DARK_KNIGHT in [m.id for m in similar][:5]
        recommended = await in_thread(lambda: movie.recommendations(INCEPTION))
        assert [m.id for m in recommended] == [m.id for m in similar]
        reviews = await in_thread(lambda: movie.reviews(DARK_KNIGHT))
        assert [r.id for r in reviews] == [str(reviewed)]

    async def test_an_unknown_movie_raises_tmdbs_message(self, v3: CatalogServer) -> None:
        movie = v3_pointed(tmdbv3api.Movie(), v3)
        with pytest.raises(TMDbException, match="could not be found"):
            await in_thread(lambda: movie.details(2_000_000_000))


class TestTheMovieDb:
    async def test_details_with_appends_parse_with_tmdbs_types(self, moviedb: MovieDb) -> None:
        appends = "credits,images,videos,keywords,release_dates,external_ids,similar,reviews"
        movie = await in_thread(lambda: moviedb.movie(AVATAR).details(append_to_response=appends))
        assert (movie.id, movie.title, movie.revenue) == (AVATAR, "Avatar", 2_787_965_087)
        assert movie.release_date is not None and movie.release_date.isoformat() == "2009-12-10"
        assert movie.credits is not None and movie.credits.crew is not None
        assert CAMERON in director_ids(movie.credits.crew)
        assert movie.keywords is not None and len(movie.keywords.results or []) > 5
        assert movie.similar is not None and len(movie.similar.results or []) == 20
        assert movie.release_dates is not None and movie.release_dates.results

    async def test_credits_the_lists_and_trending(
        self, moviedb: MovieDb, tmdb_server: CatalogServer
    ) -> None:
        credits = await in_thread(moviedb.movie(INCEPTION).credits)
        assert credits.crew is not None and director_ids(credits.crew) == [NOLAN]
        popular = await in_thread(moviedb.movies().popular)
        assert [m.id for m in popular.results or []] == await native_ids(
            tmdb_server, "/movies/popular"
        )
        upcoming = await in_thread(moviedb.movies().upcoming)
        assert upcoming.dates is not None and upcoming.dates.minimum is not None
        daily = await in_thread(moviedb.trending().movie_daily)
        assert len(daily.results or []) == 20

    async def test_reviews_with_whole_ratings(self, moviedb: MovieDb, reviewed: int) -> None:
        reviews = await in_thread(moviedb.movie(DARK_KNIGHT).reviews)
        [review] = reviews.results or []
        assert review.id == str(reviewed)
        assert review.author_details is not None and review.author_details.rating == 8

    async def test_an_unknown_movie_raises_an_http_error(self, moviedb: MovieDb) -> None:
        with pytest.raises(TMDbHTTPError):
            await in_thread(moviedb.movie(2_000_000_000).details)

    async def test_the_async_client_reads_details_lists_and_trending(
        self, aio_moviedb: AioMovieDb
    ) -> None:
        movie = await aio_moviedb.movie(INCEPTION).details(append_to_response="credits,similar")
        assert movie.credits is not None and movie.credits.crew is not None
        assert director_ids(movie.credits.crew) == [NOLAN]
        top = await aio_moviedb.movies().top_rated()
        assert len(top.results or []) == 20 and top.total_results
        playing = await aio_moviedb.movies().now_playing()
        assert playing.dates is not None and playing.dates.maximum is not None
        weekly = await aio_moviedb.trending().movie_weekly()
        assert len(weekly.results or []) == 20
        recommended = await aio_moviedb.movie(INCEPTION).recommendations()
        assert DARK_KNIGHT in [m.id for m in recommended.results or []][:5]


class TestTmdbapis:
    async def test_the_full_load_with_its_15_appends(self, kometa: TMDbAPIs) -> None:
        movie = await in_thread(lambda: kometa.movie(AVATAR))
        assert (movie.id, movie.title, movie.budget) == (AVATAR, "Avatar", 237_000_000)
        assert "Action" in [g.name for g in movie.genres]
        assert movie.original_language.iso_639_1 == "en"
        assert "Sam Worthington" in [c.name for c in movie.cast]
        assert CAMERON in director_ids(movie.crew, person="person_id")
        assert "culture clash" in [k.name for k in movie.keywords]
        assert movie.release_dates["US"][0].release_date.year == 2009
        assert len(movie.similar.results) == 20 and movie.similar.total_results >= 20
        assert movie.recommendations.total_results == movie.similar.total_results
        assert movie.posters[0].file_path == movie.poster_path
        assert movie.lists.total_results == 0 and movie.watch_providers == {}
        assert movie.rated is None  # account_states is left out without a session

    async def test_the_four_lists_and_trending(
        self, kometa: TMDbAPIs, tmdb_server: CatalogServer
    ) -> None:
        popular = await in_thread(kometa.popular_movies)
        assert [m.id for m in popular.results] == await native_ids(tmdb_server, "/movies/popular")
        top = await in_thread(kometa.top_rated_movies)
        assert len(top.results) == 20
        upcoming = await in_thread(kometa.upcoming_movies)
        assert upcoming.minimum_date is not None and upcoming.total_results == 0
        playing = await in_thread(kometa.now_playing_movies)
        assert playing.maximum_date is not None
        trending = await in_thread(lambda: kometa.trending("movie", "day"))
        assert len(trending.results) == 20
        assert all(type(m).__name__ == "Movie" for m in trending.results)

    async def test_credits_and_reviews(self, kometa: TMDbAPIs, reviewed: int) -> None:
        inception = await in_thread(lambda: kometa.movie(INCEPTION))
        assert director_ids(inception.crew, person="person_id") == [NOLAN]
        dark_knight = await in_thread(lambda: kometa.movie(DARK_KNIGHT))
        [review] = dark_knight.reviews.results
        assert review.id == str(reviewed)

    async def test_an_unknown_movie_raises_not_found(self, kometa: TMDbAPIs) -> None:
        with pytest.raises(NotFound):
            await in_thread(lambda: kometa.movie(2_000_000_000))
