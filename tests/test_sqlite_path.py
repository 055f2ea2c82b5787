"""The app over SQLite end to end (what `make run` uses): migrate, import the sample, then the
HTTP API with its lifespan; and the dev runner's sample loading."""

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, func, select

from api.db import make_engine, make_sessionmaker
from api.main import create_app
from api.movies.models import Movie
from api.settings import Settings
from api.users.service import ensure_admin
from devstack.run import load_sample_if_empty
from importer.tmdb import import_tmdb
from indexer.sorting import title_sort_key
from tests.conftest import migrate, recreate_database
from tests.importer import SAMPLE_FILES, Expected, expected_from_files, read_rows

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"


@pytest.fixture(scope="module")
def sample() -> Expected:
    return expected_from_files(*SAMPLE_FILES)


@pytest.fixture(scope="module")
def sample_movies() -> list[dict[str, str]]:
    return read_rows(SAMPLE_FILES[0])


@pytest.fixture(scope="module")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file, migrated, with the sample catalog imported."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'marquee.db'}"
    await recreate_database(url)
    await migrate(url)
    engine = make_engine(url)
    try:
        report = await import_tmdb(make_sessionmaker(engine), *SAMPLE_FILES)
    finally:
        await engine.dispose()
    assert (report.imported, report.skipped_invalid) == (300, 0)
    return url


@pytest.fixture(scope="module")
async def sqlite_app(settings: Settings, sqlite_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={"DATABASE_URL": sqlite_url}))
    async with app.router.lifespan_context(app):
        async with app.state.sessionmaker() as session:
            await ensure_admin(session, ADMIN_EMAIL, ADMIN_PASSWORD)
            await session.commit()
        yield app


@pytest.fixture
async def http(sqlite_app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=sqlite_app), base_url="http://test") as c:
        yield c


async def token(http: AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await http.post("/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class TestSqliteCatalog:
    async def test_movies_lists_the_whole_sample(self, http: AsyncClient) -> None:
        response = await http.get("/movies", params={"per_page": 100})

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total_results"] == 300
        assert body["total_pages"] == 3
        assert len(body["results"]) == 100

    async def test_movie_detail_has_cast_in_billing_order_and_directors(
        self, http: AsyncClient, sample: Expected, sample_movies: list[dict[str, str]]
    ) -> None:
        movie_id = int(sample_movies[0]["id"])

        response = await http.get(f"/movies/{movie_id}")

        assert response.status_code == 200, response.text
        movie = response.json()
        assert movie["title"] == sample_movies[0]["title"]
        assert [c["name"] for c in movie["cast"]] == sample.cast_by_movie[movie_id]
        assert [d["name"] for d in movie["directors"]] == sample.directors_by_movie[movie_id]
        assert {g["name"] for g in movie["genres"]} == sample.genres_by_movie[movie_id]
        assert movie["poster_path"] == sample.posters[movie_id]
        assert movie["poster_url"].endswith(sample.posters[movie_id])

    async def test_genres_list_every_genre_with_its_movie_count(
        self, http: AsyncClient, sample: Expected
    ) -> None:
        response = await http.get("/genres")

        assert response.status_code == 200, response.text
        counts = Counter(name for names in sample.genres_by_movie.values() for name in names)
        assert {g["name"]: g["movie_count"] for g in response.json()} == dict(counts)

    @pytest.mark.parametrize(
        ("params", "keep"),
        [
            ({"genre": "Action"}, lambda m, genres: "Action" in genres),
            ({"language": "fr"}, lambda m, genres: m["original_language"] == "fr"),
            ({"year": 2015}, lambda m, genres: m["release_date"].startswith("2015")),
            (
                {"genre": "Drama", "year": 2014},
                lambda m, genres: "Drama" in genres and m["release_date"].startswith("2014"),
            ),
        ],
        ids=["genre", "language", "year", "genre-and-year"],
    )
    async def test_filters_return_exactly_the_matching_movies(
        self,
        http: AsyncClient,
        sample: Expected,
        sample_movies: list[dict[str, str]],
        params: dict[str, object],
        keep: object,
    ) -> None:
        expected = {
            int(m["id"])
            for m in sample_movies
            if keep(m, sample.genres_by_movie[int(m["id"])])  # type: ignore[operator]
        }
        assert expected, "the filter should match part of the sample"

        pages = [
            await http.get("/movies", params={**params, "per_page": 100, "page": page})
            for page in (1, 2, 3)
        ]

        assert all(r.status_code == 200 for r in pages), pages[0].text
        assert pages[0].json()["total_results"] == len(expected) < 300
        found = [m["id"] for r in pages for m in r.json()["results"]]
        assert sorted(found) == sorted(expected)

    async def test_sort_by_title_ascending_orders_by_folded_title_then_id(
        self, http: AsyncClient, sample_movies: list[dict[str, str]]
    ) -> None:
        expected = sorted(sample_movies, key=lambda m: (title_sort_key(m["title"]), int(m["id"])))

        pages = [
            (await http.get("/movies", params={"sort_by": "title.asc", "per_page": 100, "page": p}))
            for p in (1, 2, 3)
        ]

        assert all(r.status_code == 200 for r in pages), pages[0].text
        titles = [m["title"] for r in pages for m in r.json()["results"]]
        assert titles == [m["title"] for m in expected]


class TestSqliteAccountsAndAdmin:
    async def test_register_then_sign_in_returns_a_working_token(self, http: AsyncClient) -> None:
        body = {"email": "reader@example.com", "password": "reader-password-1"}
        registered = await http.post("/auth/register", json=body)
        assert registered.status_code == 201, registered.text

        headers = await token(http, body["email"], body["password"])
        me = await http.get("/users/me", headers=headers)

        assert me.status_code == 200, me.text
        assert me.json()["email"] == "reader@example.com"
        assert me.json()["is_admin"] is False

    async def test_a_plain_user_cannot_create_a_movie(self, http: AsyncClient) -> None:
        body = {"email": "plain@example.com", "password": "plain-password-1"}
        assert (await http.post("/auth/register", json=body)).status_code == 201
        headers = await token(http, body["email"], body["password"])

        response = await http.post("/movies", json={"title": "Not allowed"}, headers=headers)

        assert response.status_code == 403, response.text

    async def test_admin_creates_updates_and_deletes_a_movie(self, http: AsyncClient) -> None:
        headers = await token(http, ADMIN_EMAIL, ADMIN_PASSWORD)
        new = {
            "title": "Une Histoire 🎬",
            "original_language": "fr",
            "release_date": "2021-05-04",
            "genres": ["Drama", "Comedy"],
            "cast": [{"name": "Sam Worthington", "character": "Lead"}, {"name": "New Face"}],
            "directors": [{"name": "Christopher Nolan"}],
        }

        created = await http.post("/movies", json=new, headers=headers)
        assert created.status_code == 201, created.text
        movie = created.json()
        assert movie["title"] == "Une Histoire 🎬"
        assert {g["name"] for g in movie["genres"]} == {"Drama", "Comedy"}
        assert [c["name"] for c in movie["cast"]] == ["Sam Worthington", "New Face"]
        assert [d["name"] for d in movie["directors"]] == ["Christopher Nolan"]
        listed = await http.get("/movies", params={"per_page": 1})
        assert listed.json()["total_results"] == 301

        updated = await http.patch(
            f"/movies/{movie['id']}", json={"title": "A Story", "runtime": 101}, headers=headers
        )
        assert updated.status_code == 200, updated.text
        fetched = (await http.get(f"/movies/{movie['id']}")).json()
        assert (fetched["title"], fetched["runtime"]) == ("A Story", 101)
        assert [c["name"] for c in fetched["cast"]] == ["Sam Worthington", "New Face"]

        deleted = await http.delete(f"/movies/{movie['id']}", headers=headers)
        assert deleted.status_code == 204, deleted.text
        assert (await http.get(f"/movies/{movie['id']}")).status_code == 404
        listed = await http.get("/movies", params={"per_page": 1})
        assert listed.json()["total_results"] == 300


async def movie_count(url: str) -> int:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(Movie))).scalar_one()
    finally:
        await engine.dispose()


class TestLoadSampleIfEmpty:
    async def test_loads_the_sample_into_an_empty_database_and_only_then(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}"
        await migrate(url)
        assert await movie_count(url) == 0

        await load_sample_if_empty(url)

        assert await movie_count(url) == 300
        assert "loaded the sample catalog (300 movies)" in capsys.readouterr().out
        first_id = int(read_rows(SAMPLE_FILES[0])[0]["id"])
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(delete(Movie).where(Movie.id == first_id))
        await engine.dispose()

        await load_sample_if_empty(url)  # not empty: must not import (which would re-add it)

        assert await movie_count(url) == 299
        assert capsys.readouterr().out == ""
