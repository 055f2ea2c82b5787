"""P0 reads of the layer's foundation: /3/configuration and its five sub-lists (tmdbapis
cannot start without them), and /3/genre/movie/list from Marquee's genres."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.movies.models import CrewCredit, MovieCountry
from api.settings import Settings
from api.tmdb.reference import image_base
from tests.api.conftest import Catalog, unique


async def get(client: AsyncClient, path: str, key: str, **params: Any) -> Any:
    response = await client.get(path, params={"api_key": key, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


class TestConfiguration:
    async def test_configuration_gives_the_size_less_image_base_and_sizes(
        self, client: AsyncClient, api_key: str, settings: Settings
    ) -> None:
        body = await get(client, "/3/configuration", api_key)
        assert body["change_keys"] == []
        images = body["images"]
        assert images["secure_base_url"] == "https://image.tmdb.org/t/p/"
        assert images["base_url"] == images["secure_base_url"]
        assert "w500" in images["poster_sizes"] and "original" in images["poster_sizes"]
        kinds = {"backdrop_sizes", "logo_sizes", "poster_sizes", "profile_sizes", "still_sizes"}
        assert kinds <= set(images)

    @pytest.mark.parametrize(
        ("configured", "base", "sizes"),
        [
            ("https://image.tmdb.org/t/p/w500", "https://image.tmdb.org/t/p/", "tmdb"),
            ("https://cdn.example.com/t/p/original/", "https://cdn.example.com/t/p/", "tmdb"),
            ("https://img.example.com/posters", "https://img.example.com/posters/", "original"),
        ],
    )
    def test_the_image_base_drops_a_size_segment(
        self, configured: str, base: str, sizes: str
    ) -> None:
        found_base, found_sizes = image_base(configured)
        assert found_base == base
        only_original = all(v == ["original"] for v in found_sizes.values())
        assert only_original is (sizes == "original")

    async def test_countries_list_every_iso_code_and_the_catalogs_own(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        movie = await catalog.movie()
        db.add(MovieCountry.model_validate({"movie_id": movie.id, "iso_3166_1": "QZ", "name": "Q"}))
        await db.commit()
        body = await get(client, "/3/configuration/countries", api_key)
        assert isinstance(body, list)
        assert all(isinstance(c["iso_3166_1"], str) for c in body)
        codes = {c["iso_3166_1"]: c for c in body}
        assert codes["US"]["english_name"] == "United States of America"
        assert {"FR", "JP", "SU"} <= set(codes)
        assert codes["QZ"] == {"iso_3166_1": "QZ", "english_name": "Q", "native_name": "Q"}

    async def test_languages_include_every_original_language_of_the_catalog(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        await catalog.movie(original_language="qx")
        body = await get(client, "/3/configuration/languages", api_key)
        assert all(isinstance(lang["iso_639_1"], str) for lang in body)
        codes = {lang["iso_639_1"]: lang for lang in body}
        assert codes["en"] == {"iso_639_1": "en", "english_name": "English", "name": "English"}
        assert {"fr", "ja", "xx", "cn"} <= set(codes)
        assert codes["qx"]["english_name"] == "qx"

    async def test_jobs_list_the_catalogs_crew_jobs_by_department(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        movie = await catalog.movie()
        person = await catalog.person()
        job = unique("Grip")
        credit = {"movie_id": movie.id, "person_id": person.id, "department": "Crew", "job": job}
        db.add(CrewCredit.model_validate(credit))
        await db.commit()
        body = await get(client, "/3/configuration/jobs", api_key)
        departments = {d["department"]: d["jobs"] for d in body}
        assert "Director" in departments["Directing"]
        assert "Actor" in departments["Acting"]
        assert job in departments["Crew"]

    async def test_primary_translations_are_strings(
        self, client: AsyncClient, api_key: str
    ) -> None:
        body = await get(client, "/3/configuration/primary_translations", api_key)
        assert "en-US" in body
        assert all(isinstance(tag, str) for tag in body)

    async def test_timezones_by_country(self, client: AsyncClient, api_key: str) -> None:
        body = await get(client, "/3/configuration/timezones", api_key)
        zones = {entry["iso_3166_1"]: entry["zones"] for entry in body}
        assert "America/New_York" in zones["US"]

    @pytest.mark.parametrize(
        "path",
        [
            "/3/configuration",
            "/3/configuration/countries",
            "/3/configuration/languages",
            "/3/configuration/jobs",
            "/3/configuration/primary_translations",
            "/3/configuration/timezones",
        ],
    )
    async def test_every_configuration_route_needs_a_key(
        self, client: AsyncClient, path: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == 401
        assert response.json()["status_code"] == 7


class TestGenres:
    async def test_movie_genres_by_name_with_integer_ids(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        made = [await catalog.genre(unique(name)) for name in ("zz-Western", "aa-Action")]
        body = await get(client, "/3/genre/movie/list", api_key, language="de-DE")
        assert set(body) == {"genres"}
        genres = body["genres"]
        assert all(set(g) == {"id", "name"} and isinstance(g["id"], int) for g in genres)
        names = [g["name"] for g in genres]
        assert names.index(made[1].name) < names.index(made[0].name)  # by name
        listed = {g["id"]: g["name"] for g in genres}
        assert all(listed[g.id] == g.name for g in made if g.id is not None)

    async def test_tv_genres_are_an_empty_list(self, client: AsyncClient, api_key: str) -> None:
        assert await get(client, "/3/genre/tv/list", api_key) == {"genres": []}
