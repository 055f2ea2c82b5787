"""The four TMDB clients (tmdbsimple, tmdbv3api, themoviedb sync and async, tmdbapis), from
PyPI and unmodified, through their own public APIs against a real Marquee on the TMDB 5000
catalog (tests.tmdb.live.tmdb_server), pointed at it as TMDB_V3.md section 2 says: discover
with genres all of (`,`) and any of (`|`) and a sort, search for movies (a typo included),
people and both, a person's details and movie credits."""

from collections.abc import Sequence
from typing import Any

import pytest
import tmdbsimple
import tmdbv3api
from themoviedb import TMDb as MovieDb
from themoviedb import aioTMDb as AioMovieDb
from themoviedb.exceptions import TMDbHTTPError
from tmdbapis import TMDbAPIs
from tmdbapis.exceptions import NotFound
from tmdbv3api.exceptions import TMDbException

from tests.tmdb.clients import v3_pointed
from tests.tmdb.live import CatalogServer, in_thread, pointed, refused

ACTION, ADVENTURE = 28, 12
INCEPTION, DARK_KNIGHT, INTERSTELLAR = 27205, 155, 157336
NOLAN, DICAPRIO = 525, 6193
# Discover's sort and vote floor, as each client spells them.
FLOOR = 3000


def check_and_or(both: Sequence[tuple[Any, Any, Any]], either_total: int, both_total: int) -> None:
    """(id, genre ids, vote average) of the `28,12` page: every one in both genres, by
    average; and `28|12` matching more."""
    assert both and all({ACTION, ADVENTURE} <= set(genres) for _, genres, _ in both)
    averages = [average for _, _, average in both]
    assert averages == sorted(averages, reverse=True)
    assert either_total > both_total > 0


class TestTmdbsimple:
    async def test_discover_all_of_and_any_of_genres_sorted(self, simple: CatalogServer) -> None:
        discover = pointed(tmdbsimple.Discover(), simple)
        sort = {"sort_by": "vote_average.desc", "vote_count_gte": FLOOR}  # _gte -> .gte
        both = await in_thread(lambda: discover.movie(with_genres="28,12", **sort))
        either = await in_thread(lambda: discover.movie(with_genres="28|12", **sort))
        rows = [(m["id"], m["genre_ids"], m["vote_average"]) for m in both["results"]]
        check_and_or(rows, either["total_results"], both["total_results"])
        assert all(m["vote_count"] >= FLOOR for m in both["results"])

    async def test_search_movie_person_and_multi(self, simple: CatalogServer) -> None:
        search = pointed(tmdbsimple.Search(), simple)
        movies = await in_thread(lambda: search.movie(query="Interstelar"))
        assert movies["results"][0]["id"] == INTERSTELLAR
        people = await in_thread(lambda: search.person(query="Cristopher Nolan"))
        nolan = people["results"][0]
        assert nolan["id"] == NOLAN
        assert {m["media_type"] for m in nolan["known_for"]} == {"movie"}
        multi = await in_thread(lambda: search.multi(query="inception"))
        assert multi["results"][0]["media_type"] == "movie"
        assert INCEPTION in [m["id"] for m in multi["results"][:3]]

    async def test_person_details_and_movie_credits(self, simple: CatalogServer) -> None:
        person = pointed(tmdbsimple.People(NOLAN), simple)
        info = await in_thread(lambda: person.info(append_to_response="movie_credits"))
        assert info["name"] == "Christopher Nolan" and person.name == "Christopher Nolan"
        credits = await in_thread(person.movie_credits)
        directed = {m["id"] for m in credits["crew"] if m["job"] == "Director"}
        assert {INCEPTION, DARK_KNIGHT} <= directed
        assert directed == {
            m["id"] for m in info["movie_credits"]["crew"] if m["job"] == "Director"
        }

    async def test_an_unknown_person_raises_with_404_code_34(self, simple: CatalogServer) -> None:
        person = pointed(tmdbsimple.People(2_000_000_000), simple)
        response = await in_thread(lambda: refused(person.info))
        assert response.status_code == 404 and response.json()["status_code"] == 34

    async def test_an_unsupported_filter_raises_with_422_code_5(
        self, simple: CatalogServer
    ) -> None:
        discover = pointed(tmdbsimple.Discover(), simple)
        response = await in_thread(lambda: refused(lambda: discover.movie(with_watch_providers=8)))
        assert response.status_code == 422 and response.json()["status_code"] == 5


class TestTmdbv3api:
    async def test_discover_all_of_and_any_of_genres_sorted(self, v3: CatalogServer) -> None:
        discover = v3_pointed(tmdbv3api.Discover(), v3)
        sort = {"sort_by": "vote_average.desc", "vote_count.gte": FLOOR}
        both = await in_thread(lambda: discover.discover_movies({"with_genres": "28,12", **sort}))
        both_total = both.total_results
        either = await in_thread(lambda: discover.discover_movies({"with_genres": "28|12", **sort}))
        rows = [(m.id, list(m.genre_ids), m.vote_average) for m in both]
        assert all(ACTION in m.genre_ids for m in both)  # how tmdbv3api users test a genre
        check_and_or(rows, either.total_results, both_total)

    async def test_search_movie_person_and_multi(self, v3: CatalogServer) -> None:
        search = v3_pointed(tmdbv3api.Search(), v3)
        movies = await in_thread(lambda: search.movies("Interstelar"))
        assert movies[0].id == INTERSTELLAR and movies[0].release_date == "2014-11-05"
        people = await in_thread(lambda: search.people("dicaprio"))
        assert people[0].id == DICAPRIO and people[0].name == "Leonardo DiCaprio"
        assert all(m.media_type == "movie" for m in people[0].known_for)
        multi = await in_thread(lambda: search.multi("lincoln"))
        kinds = [item.media_type for item in multi]
        assert kinds[:3] == ["movie"] * 3 and set(kinds[3:]) == {"person"}

    async def test_person_details_and_movie_credits(self, v3: CatalogServer) -> None:
        person = v3_pointed(tmdbv3api.Person(), v3)
        details = await in_thread(lambda: person.details(DICAPRIO))  # appends videos,images
        assert details.name == "Leonardo DiCaprio"
        # TMDB 5000 has no profile pictures: an empty list, as TMDB answers for someone without
        assert details.profile_path is None and list(details.images.profiles) == []
        credits = await in_thread(lambda: person.movie_credits(DICAPRIO))
        cobb = next(m for m in credits.cast if m.id == INCEPTION)
        assert cobb.character == "Dom Cobb"

    async def test_an_unknown_person_raises_tmdbs_message(self, v3: CatalogServer) -> None:
        person = v3_pointed(tmdbv3api.Person(), v3)
        with pytest.raises(TMDbException, match="could not be found"):
            await in_thread(lambda: person.details(2_000_000_000))


class TestThemoviedb:
    async def test_discover_all_of_and_any_of_genres_sorted(self, moviedb: MovieDb) -> None:
        def discover(genres: str) -> Any:
            return moviedb.discover().movie(
                with_genres=genres, sort_by="vote_average.desc", vote_count__gte=FLOOR
            )

        both = await in_thread(lambda: discover("28,12"))
        either = await in_thread(lambda: discover("28|12"))
        rows = [(m.id, m.genre_ids or [], m.vote_average or 0.0) for m in both.results or []]
        assert both.total_results is not None and either.total_results is not None
        check_and_or(rows, either.total_results, both.total_results)

    async def test_search_movie_person_and_multi(self, moviedb: MovieDb) -> None:
        movies = await in_thread(lambda: moviedb.search().movies("Interstelar"))
        assert movies.results and movies.results[0].id == INTERSTELLAR
        assert movies.results[0].year == 2014
        people = await in_thread(lambda: moviedb.search().people("Cristopher Nolan"))
        assert people.results and people.results[0].id == NOLAN
        assert people.results[0].known_for and len(people.results[0].known_for) == 3
        multi = await in_thread(lambda: moviedb.search().multi("lincoln"))
        assert multi.results and multi.total_results == 3 + 25
        kinds = [item.is_movie() for item in multi.results]
        assert kinds == [True] * 3 + [False] * 17
        assert all(item.is_person() for item in multi.results[3:])

    async def test_person_details_and_movie_credits(self, moviedb: MovieDb) -> None:
        person = moviedb.person(NOLAN)
        details = await in_thread(lambda: person.details(append_to_response="movie_credits"))
        assert details.name == "Christopher Nolan" and details.gender == 2
        assert details.movie_credits and details.movie_credits.crew
        credits = await in_thread(person.movie_credits)
        directed = {m.id for m in credits.crew or [] if m.job == "Director"}
        assert {INCEPTION, DARK_KNIGHT} <= directed

    async def test_an_unknown_person_raises(self, moviedb: MovieDb) -> None:
        with pytest.raises(TMDbHTTPError):
            await in_thread(moviedb.person(2_000_000_000).details)


class TestThemoviedbAsync:
    async def test_discover_search_and_person(self, aio_moviedb: AioMovieDb) -> None:
        discover = aio_moviedb.discover()
        sort_by, floor = "vote_average.desc", FLOOR
        both = await discover.movie(with_genres="28,12", sort_by=sort_by, vote_count__gte=floor)
        either = await discover.movie(with_genres="28|12", sort_by=sort_by, vote_count__gte=floor)
        rows = [(m.id, m.genre_ids or [], m.vote_average or 0.0) for m in both.results or []]
        assert both.total_results is not None and either.total_results is not None
        check_and_or(rows, either.total_results, both.total_results)
        movies = await aio_moviedb.search().movies("Interstelar")
        assert movies.results and movies.results[0].id == INTERSTELLAR
        multi = await aio_moviedb.search().multi("dicaprio")
        assert multi.results and multi.results[0].is_person()
        credits = await aio_moviedb.person(DICAPRIO).movie_credits()
        assert INCEPTION in {m.id for m in credits.cast or []}


class TestTmdbapis:
    async def test_discover_all_of_and_any_of_genres_sorted(self, kometa: TMDbAPIs) -> None:
        sort = {"sort_by": "vote_average.desc", "vote_count.gte": FLOOR}
        both = await in_thread(lambda: kometa.discover_movies(with_genres="28,12", **sort))
        either = await in_thread(lambda: kometa.discover_movies(with_genres="28|12", **sort))
        rows = [(m.id, [g.id for g in m.genres], m.vote_average) for m in both.results]
        assert all(g is not None for m in both.results for g in m.genres)  # resolved genres
        check_and_or(rows, either.total_results, both.total_results)

    async def test_search_movie_person_and_multi(self, kometa: TMDbAPIs) -> None:
        movies = await in_thread(lambda: kometa.movie_search("Interstelar"))
        assert movies.results[0].id == INTERSTELLAR
        people = await in_thread(lambda: kometa.people_search("Cristopher Nolan"))
        assert people.results[0].id == NOLAN and people.results[0].name == "Christopher Nolan"
        multi = await in_thread(lambda: kometa.multi_search("lincoln"))
        kinds = [type(item).__name__ for item in multi.results]
        assert kinds == ["Movie"] * 3 + ["Person"] * 17

    async def test_a_search_without_results_raises_not_found(self, kometa: TMDbAPIs) -> None:
        for search in (kometa.movie_search, kometa.people_search, kometa.multi_search):
            with pytest.raises(NotFound, match="No Results Found"):
                await in_thread(lambda s=search: s("Qxzqvwjkplm"))  # type: ignore[misc]

    async def test_person_details_and_movie_credits(self, kometa: TMDbAPIs) -> None:
        nolan = await in_thread(lambda: kometa.person(NOLAN))  # appends six names
        assert nolan.name == "Christopher Nolan" and nolan.known_for_department == "Directing"
        directed = {c.movie.id for c in nolan.movie_crew if c.job == "Director"}
        assert {INCEPTION, DARK_KNIGHT} <= directed
        assert nolan.tv_cast == [] and nolan.tv_crew == []

    async def test_an_unknown_person_raises_not_found(self, kometa: TMDbAPIs) -> None:
        with pytest.raises(NotFound):
            await in_thread(lambda: kometa.person(2_000_000_000))
