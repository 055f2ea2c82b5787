"""Movie details answer the whole TMDB record the files hold (checked against the files
themselves, read with csv/json), and search finds movies by their keywords, crew and studios."""

import json
from typing import Any

from httpx import AsyncClient

from tests.catalogs import catalog_files
from tests.importer import read_rows


def _expected(row: dict[str, str], credits: dict[str, str]) -> dict[str, Any]:
    crew = json.loads(credits["crew"] or "[]")
    return {
        "budget": int(row["budget"]) or None,
        "revenue": int(row["revenue"]) or None,
        "homepage": row["homepage"] or None,
        "keywords": {k["id"] for k in json.loads(row["keywords"] or "[]")},
        "production_companies": [c["id"] for c in json.loads(row["production_companies"])],
        "production_countries": [c["iso_3166_1"] for c in json.loads(row["production_countries"])],
        "spoken_languages": [c["iso_639_1"] for c in json.loads(row["spoken_languages"])],
        "crew": {(c["id"], c["department"], c["job"]) for c in crew},
    }


def _answered(movie: dict[str, Any]) -> dict[str, Any]:
    return {
        "budget": movie["budget"],
        "revenue": movie["revenue"],
        "homepage": movie["homepage"],
        "keywords": {k["id"] for k in movie["keywords"]},
        "production_companies": [c["id"] for c in movie["production_companies"]],
        "production_countries": [c["iso_3166_1"] for c in movie["production_countries"]],
        "spoken_languages": [c["iso_639_1"] for c in movie["spoken_languages"]],
        "crew": {(c["id"], c["department"], c["job"]) for c in movie["crew"]},
    }


class TestWholeRecord:
    async def test_details_hold_everything_the_files_hold(self, tmdb_client: AsyncClient) -> None:
        movies, credits, _ = catalog_files()
        by_id = {row["movie_id"]: row for row in read_rows(credits)}
        for row in read_rows(movies)[::25]:
            response = await tmdb_client.get(f"/movies/{row['id']}")
            assert response.status_code == 200, row["id"]
            assert _answered(response.json()) == _expected(row, by_id[row["id"]]), row["id"]


class TestSearchOverTheRecord:
    async def test_a_composer_finds_the_films_he_scored(self, tmdb_client: AsyncClient) -> None:
        composer, titles = _a_composer()
        body = (await tmdb_client.get("/movies/search", params={"q": composer})).json()
        found = {movie["title"] for movie in body["results"]}
        assert titles & found, (composer, titles)

    async def test_a_keyword_finds_its_movies(self, tmdb_client: AsyncClient) -> None:
        keyword, titles = _a_rare_keyword()
        body = (await tmdb_client.get("/movies/search", params={"q": keyword})).json()
        assert titles <= {movie["title"] for movie in body["results"]}, keyword


def _a_composer() -> tuple[str, set[str]]:
    """The composer credited on the most movies of the catalog, and those movies' titles."""
    movies, credits, _ = catalog_files()
    titles = {row["id"]: row["title"] for row in read_rows(movies)}
    scored: dict[str, set[str]] = {}
    for row in read_rows(credits):
        for c in json.loads(row["crew"] or "[]"):
            if c["job"] == "Original Music Composer":
                scored.setdefault(c["name"], set()).add(titles[row["movie_id"]])
    name = max(scored, key=lambda n: len(scored[n]))
    return name, scored[name]


def _a_rare_keyword() -> tuple[str, set[str]]:
    """A one-word keyword of 8+ letters on 2 to 4 movies, and their titles."""
    movies, _, _ = catalog_files()
    tagged: dict[str, set[str]] = {}
    for row in read_rows(movies):
        for k in json.loads(row["keywords"] or "[]"):
            tagged.setdefault(k["name"], set()).add(row["title"])
    rare = [n for n, t in tagged.items() if n.isalpha() and len(n) >= 8 and 2 <= len(t) <= 4]
    return sorted(rare)[0], tagged[sorted(rare)[0]]
