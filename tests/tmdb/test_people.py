"""`/3/person/*` (TMDB_V3.md 3.4, 4 rows 15-16, 6): a person with `append_to_response`, their
movie credits (and TMDB's combined, TV, image and external-id views), popular people with full
`known_for` items, the latest person; unknown ids answer 404 code 34."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.movies.models import CrewCredit, Genre, Movie
from api.people.models import Person
from tests.api.conftest import Catalog
from tests.tmdb.live import CatalogServer

NOT_FOUND = {
    "success": False,
    "status_code": 34,
    "status_message": "The resource you requested could not be found.",
}
DETAILS_KEYS = {
    "adult", "also_known_as", "biography", "birthday", "deathday", "gender", "homepage", "id",
    "imdb_id", "known_for_department", "name", "original_name", "place_of_birth", "popularity",
    "profile_path",
}  # fmt: skip
PARTS = [
    "movie_credits", "combined_credits", "images", "external_ids", "tv_credits", "translations",
    "tagged_images",
]  # fmt: skip


async def get(client: AsyncClient, path: str, key: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params={"api_key": key, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


@dataclass
class Filmography:
    """An actor who also directed one of the two films they act in."""

    person: Person
    genre: Genre
    early: Movie
    late: Movie


@pytest.fixture
async def filmography(catalog: Catalog, db: AsyncSession) -> Filmography:
    person = await catalog.person(profile_path="/face.jpg")
    genre = await catalog.genre()
    early = await catalog.movie(
        "Early", [genre], [person], release_date=date(1999, 3, 1), popularity=3.0
    )
    late = await catalog.movie(
        "Late", [genre], [await catalog.person(), person], release_date=date(2020, 3, 1)
    )
    job = {"person_id": person.id, "department": "Directing", "job": "Director"}
    db.add(CrewCredit.model_validate({"movie_id": late.id, **job}))
    db.add(CrewCredit.model_validate({"movie_id": late.id, **job, "job": "Screenplay"}))
    await db.commit()
    return Filmography(person, genre, early, late)


class TestPersonDetails:
    async def test_details_have_tmdbs_fields(
        self, client: AsyncClient, api_key: str, filmography: Filmography
    ) -> None:
        person = filmography.person
        body = await get(client, f"/3/person/{person.id}", api_key)
        assert set(body) == DETAILS_KEYS
        assert (body["id"], body["name"], body["original_name"]) == (
            person.id,
            person.name,
            person.name,
        )
        assert body["profile_path"] == "/face.jpg"
        assert (body["also_known_as"], body["biography"], body["birthday"]) == ([], "", None)
        assert isinstance(body["gender"], int) and body["adult"] is False

    async def test_appends_add_each_part_and_ignore_unknown_names(
        self, client: AsyncClient, api_key: str, filmography: Filmography
    ) -> None:
        person = filmography.person
        append = ",".join([*PARTS, "videos", "changes"])
        body = await get(client, f"/3/person/{person.id}", api_key, append_to_response=append)
        assert set(body) == DETAILS_KEYS | set(PARTS)
        assert body["images"]["profiles"][0]["file_path"] == "/face.jpg"
        assert body["tv_credits"] == {"cast": [], "crew": []}
        assert body["translations"] == {"translations": []}
        assert body["tagged_images"]["results"] == []
        assert body["external_ids"]["imdb_id"] is None
        assert [m["id"] for m in body["movie_credits"]["cast"]] == [
            filmography.late.id,
            filmography.early.id,
        ]

    async def test_more_than_20_appends_returns_400_code_27(
        self, client: AsyncClient, api_key: str, filmography: Filmography
    ) -> None:
        append = ",".join(["images"] * 21)
        params = {"api_key": api_key, "append_to_response": append}
        response = await client.get(f"/3/person/{filmography.person.id}", params=params)
        assert response.status_code == 400
        assert response.json()["status_code"] == 27

    @pytest.mark.parametrize("part", ["", *(f"/{name}" for name in PARTS)])
    async def test_an_unknown_person_returns_404_code_34(
        self, client: AsyncClient, api_key: str, part: str
    ) -> None:
        response = await client.get(f"/3/person/2147483000{part}", params={"api_key": api_key})
        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    async def test_a_person_id_that_is_not_a_number_returns_404_code_34(
        self, client: AsyncClient, api_key: str
    ) -> None:
        response = await client.get("/3/person/nolan", params={"api_key": api_key})
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


class TestMovieCredits:
    async def test_cast_and_crew_are_movie_items_with_their_part(
        self, client: AsyncClient, api_key: str, filmography: Filmography
    ) -> None:
        person, late = filmography.person, filmography.late
        body = await get(client, f"/3/person/{person.id}/movie_credits", api_key)
        assert body["id"] == person.id
        cast = {m["id"]: m for m in body["cast"]}
        assert cast[late.id]["order"] == 1 and cast[filmography.early.id]["order"] == 0
        assert cast[late.id]["character"] == ""
        assert cast[late.id]["genre_ids"] == [filmography.genre.id]
        assert cast[late.id]["release_date"] == "2020-03-01"
        jobs = sorted((m["id"], m["department"], m["job"]) for m in body["crew"])
        assert jobs == [
            (late.id, "Directing", "Director"),
            (late.id, "Directing", "Screenplay"),
        ]
        credit_ids = [m["credit_id"] for m in body["cast"] + body["crew"]]
        assert all(isinstance(c, str) for c in credit_ids)
        assert len(set(credit_ids)) == 4

    async def test_cast_credit_ids_are_those_of_the_movies_credits(
        self, client: AsyncClient, api_key: str, filmography: Filmography
    ) -> None:
        person, late = filmography.person, filmography.late
        mine = await get(client, f"/3/person/{person.id}/movie_credits", api_key)
        theirs = await get(client, f"/3/movie/{late.id}/credits", api_key)
        in_movie = {c["credit_id"] for c in theirs["cast"] if c["id"] == person.id}
        in_person = {c["credit_id"] for c in mine["cast"] if c["id"] == late.id}
        assert in_person == in_movie and len(in_movie) == 1

    async def test_combined_credits_carry_media_type(
        self, client: AsyncClient, api_key: str, filmography: Filmography
    ) -> None:
        body = await get(client, f"/3/person/{filmography.person.id}/combined_credits", api_key)
        assert len(body["cast"]) == 2 and len(body["crew"]) == 2
        assert {m["media_type"] for m in body["cast"] + body["crew"]} == {"movie"}

    async def test_the_other_parts_standalone(
        self, client: AsyncClient, api_key: str, filmography: Filmography
    ) -> None:
        person_id = filmography.person.id
        images = await get(client, f"/3/person/{person_id}/images", api_key)
        assert images["id"] == person_id
        [profile] = images["profiles"]
        assert profile["file_path"] == "/face.jpg" and profile["vote_count"] == 0
        tv = await get(client, f"/3/person/{person_id}/tv_credits", api_key)
        assert tv == {"id": person_id, "cast": [], "crew": []}
        external = await get(client, f"/3/person/{person_id}/external_ids", api_key)
        assert external["id"] == person_id and external["twitter_id"] is None

    async def test_a_person_without_a_picture_has_no_profiles(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        person = await catalog.person()
        body = await get(client, f"/3/person/{person.id}/images", api_key)
        assert body == {"id": person.id, "profiles": []}


class TestPopularAndLatest:
    async def test_popular_people_come_with_full_known_for_items(
        self, client: AsyncClient, api_key: str, filmography: Filmography, db: AsyncSession
    ) -> None:
        person = filmography.person
        person.popularity = 1e9  # above anyone the test database may hold
        await db.commit()
        body = await get(client, "/3/person/popular", api_key)
        first = body["results"][0]
        assert first["id"] == person.id and first["media_type"] == "person"
        assert [m["id"] for m in first["known_for"]] == [
            filmography.early.id,  # popularity 3 before 0
            filmography.late.id,
        ]
        early = first["known_for"][0]
        assert early["media_type"] == "movie" and early["genre_ids"] == [filmography.genre.id]
        assert early["release_date"] == "1999-03-01" and early["title"] == "Early"
        assert body["page"] == 1 and body["total_results"] >= 1

    async def test_latest_is_the_person_added_last(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        person = await catalog.person()
        body = await get(client, "/3/person/latest", api_key)
        assert (body["id"], body["name"]) == (person.id, person.name)


class TestOnTheTmdbCatalog:
    async def _get(self, server: CatalogServer, path: str, **params: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            return await get(http, path, server.key, **params)

    async def test_nolan_directs_inception(self, tmdb_server: CatalogServer) -> None:
        body = await self._get(tmdb_server, "/3/person/525", append_to_response="movie_credits")
        assert body["name"] == "Christopher Nolan" and body["gender"] == 2
        assert body["known_for_department"] == "Directing"
        crew = body["movie_credits"]["crew"]
        directed = {m["id"] for m in crew if m["job"] == "Director"}
        assert {27205, 155, 157336} <= directed

    async def test_dicaprio_plays_cobb(self, tmdb_server: CatalogServer) -> None:
        body = await self._get(tmdb_server, "/3/person/6193/movie_credits")
        cobb = next(m for m in body["cast"] if m["id"] == 27205)
        assert cobb["character"] == "Dom Cobb" and cobb["title"] == "Inception"

    async def test_popular_people_by_popularity(self, tmdb_server: CatalogServer) -> None:
        first = await self._get(tmdb_server, "/3/person/popular")
        second = await self._get(tmdb_server, "/3/person/popular", page=2)
        assert len(first["results"]) == 20 and first["total_results"] > 1000
        popularity = [p["popularity"] for p in first["results"] + second["results"]]
        assert popularity == sorted(popularity, reverse=True)
        assert all(1 <= len(p["known_for"]) <= 3 for p in first["results"])


@pytest.mark.usefixtures("cache_on")
class TestCached:
    async def test_person_details_refresh_once_their_catalog_changes(
        self, client: AsyncClient, api_key: str, filmography: Filmography, catalog: Catalog
    ) -> None:
        person = filmography.person
        path = f"/3/person/{person.id}/movie_credits"
        before = await get(client, path, api_key)
        assert await get(client, path, api_key) == before
        newer = await catalog.movie("Newer", cast=[person], release_date=date(2024, 1, 1))
        after = await get(client, path, api_key)
        assert [m["id"] for m in after["cast"]][0] == newer.id
        assert len(after["cast"]) == len(before["cast"]) + 1
