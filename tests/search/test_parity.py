"""/movies/filter (Meilisearch) answers exactly what /movies (the database) answers."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from api.db import make_engine, make_sessionmaker
from api.movies.models import Movie
from api.movies.present import details, movie_public
from api.movies.queries import get_movie, movie_details
from api.search.schemas import FilterPage, SearchPage
from api.settings import Settings

FILTERS: list[dict[str, str]] = [
    {},
    {"genre": "Action"},
    {"genre": "action,comedy"},
    {"genre": "Horror|Western"},
    {"genre": "28"},
    {"language": "fr|es"},
    {"year": "1999"},
    {"release_date.gte": "1960-01-01", "release_date.lte": "1969-12-31"},
    {"release_date.lte": "1950-01-01"},
    {"vote_average.gte": "8"},
    {"vote_count.gte": "5000"},
    {"cast": "31"},
    {"cast": "31|3223"},
    {"genre": "Drama", "language": "en", "vote_average.gte": "7.5", "vote_count.gte": "1000"},
]
SORTS = [
    "popularity.desc", "popularity.asc", "vote_average.desc", "rating.asc", "release_date.desc",
    "release_date.asc", "title.asc", "title.desc", "vote_count.desc", "vote_count.asc",
]  # fmt: skip


async def ids_and_total(
    client: AsyncClient, path: str, params: dict[str, Any]
) -> tuple[list[int], int]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [r["id"] for r in body["results"]], body["total_results"]


class TestFilterParity:
    @pytest.mark.parametrize(
        "filters", FILTERS, ids=lambda f: "&".join(f"{k}={v}" for k, v in f.items()) or "none"
    )
    async def test_filters_match_the_database(
        self, tmdb_client: AsyncClient, filters: dict[str, str]
    ) -> None:
        params = {**filters, "per_page": 100, "sort_by": "popularity.desc"}
        db_ids, db_total = await ids_and_total(tmdb_client, "/movies/", params)
        search_ids, search_total = await ids_and_total(tmdb_client, "/movies/filter/", params)
        assert search_total == db_total
        assert search_ids == db_ids

    @pytest.mark.parametrize("sort_by", SORTS)
    async def test_sorts_match_the_database_across_pages(
        self, tmdb_client: AsyncClient, sort_by: str
    ) -> None:
        for page in (1, 2, 7):
            params = {"sort_by": sort_by, "per_page": 50, "page": page}
            db_ids, _ = await ids_and_total(tmdb_client, "/movies/", params)
            search_ids, _ = await ids_and_total(tmdb_client, "/movies/filter/", params)
            assert search_ids == db_ids, f"page {page}"


class TestSameAnswers:
    """Search pages are written straight from the index's documents, not through the models:
    what they say must be what the database-served /movies says, in the models' JSON."""

    async def test_filter_results_are_the_database_results(self, tmdb_client: AsyncClient) -> None:
        first = await tmdb_client.get("/movies/", params={"per_page": 100})
        last = first.json()["total_pages"]  # the least popular: without dates, posters or votes
        for page in sorted({1, 2, last}):
            params = {"sort_by": "popularity.desc", "per_page": 100, "page": page}
            db = await tmdb_client.get("/movies/", params=params)
            search = await tmdb_client.get("/movies/filter/", params=params)
            assert search.json()["results"], f"page {page} is empty"
            assert search.json()["results"] == db.json()["results"], f"page {page}"

    @pytest.mark.parametrize("q", ["matrix", "tom hanks", "amelie", "Léon", "zzzzqx"])
    async def test_search_pages_are_the_models_json(self, tmdb_client: AsyncClient, q: str) -> None:
        response = await tmdb_client.get("/movies/search/", params={"q": q, "per_page": 50})
        assert response.status_code == 200, response.text
        # Validating and writing again must give the same bytes: no field missing, extra,
        # reordered or written differently (dates, floats, UTC as "Z").
        again = SearchPage.model_validate_json(response.content).model_dump_json()
        assert again.encode() == response.content

    async def test_filter_pages_are_the_models_json(self, tmdb_client: AsyncClient) -> None:
        for params in ({"per_page": 100}, {"genre": "Animation", "sort_by": "release_date.asc"}):
            response = await tmdb_client.get("/movies/filter/", params=params)
            assert response.status_code == 200, response.text
            again = FilterPage.model_validate_json(response.content).model_dump_json()
            assert again.encode() == response.content


class TestFacets:
    async def test_genre_facet_counts_match_the_database(self, tmdb_client: AsyncClient) -> None:
        response = await tmdb_client.get(
            "/movies/filter/", params={"language": "en", "per_page": 1}
        )
        facets = response.json()["facets"]
        for genre in ("Drama", "Action", "Animation"):
            _, expected = await ids_and_total(
                tmdb_client, "/movies/", {"language": "en", "genre": genre}
            )
            assert facets["genres"].get(genre, 0) == expected

    async def test_decade_and_language_facets_match_the_database(
        self, tmdb_client: AsyncClient
    ) -> None:
        response = await tmdb_client.get(
            "/movies/filter/", params={"genre": "Comedy", "per_page": 1}
        )
        facets = response.json()["facets"]
        _, nineties = await ids_and_total(
            tmdb_client,
            "/movies/",
            {"genre": "Comedy", "release_date.gte": "1990-01-01", "release_date.lte": "1999-12-31"},
        )
        _, english = await ids_and_total(
            tmdb_client, "/movies/", {"genre": "Comedy", "language": "en"}
        )
        assert facets["decade"].get("1990s", 0) == nineties
        assert facets["language"].get("en", 0) == english


class TestDetailsFromRows:
    """/movies/{id} reads plain rows (queries.movie_details); the writes answer from the ORM
    objects they changed (queries.get_movie): both must say the same."""

    async def test_rows_and_orm_objects_give_the_same_answer(self, tmdb_settings: Settings) -> None:
        engine = make_engine(tmdb_settings.DATABASE_URL)
        base = tmdb_settings.IMAGE_BASE_URL
        try:
            async with make_sessionmaker(engine)() as session:
                ids = (await session.execute(select(Movie.id).order_by(Movie.id))).scalars().all()
                for movie_id in ids[::20]:  # 241 movies, with and without cast, crew, dates
                    rows = await movie_details(session, movie_id)
                    orm = await get_movie(session, movie_id)
                    assert rows is not None and orm is not None
                    assert details(rows, base) == movie_public(orm, base), movie_id
                assert await movie_details(session, 2_000_000_000) is None
        finally:
            await engine.dispose()
