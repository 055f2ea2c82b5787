"""People: a person's page with their credits, popular people, typo-tolerant people search,
and an admin's rename reaching both indexes through the outbox."""

import json
from typing import Any

from httpx import AsyncClient

from api.people.schemas import PersonListItem
from tests.catalogs import catalog_files
from tests.conftest import Account
from tests.importer import read_rows
from worker import sync
from worker.resources import Resources


def _most_credited(job: str) -> tuple[int, str, set[str]]:
    """The person with the most credits for `job` in the catalog: id, name, those titles."""
    movies, credits, _ = catalog_files()
    titles = {row["id"]: row["title"] for row in read_rows(movies)}
    done: dict[tuple[int, str], set[str]] = {}
    for row in read_rows(credits):
        for c in json.loads(row["crew"] or "[]"):
            if c["job"] == job:
                done.setdefault((c["id"], c["name"]), set()).add(titles[row["movie_id"]])
    (person_id, name), films = max(done.items(), key=lambda item: (len(item[1]), item[0]))
    return person_id, name, films


class TestPersonPage:
    async def test_a_director_page_lists_the_films_they_directed(
        self, tmdb_client: AsyncClient
    ) -> None:
        person_id, name, films = _most_credited("Director")
        response = await tmdb_client.get(f"/people/{person_id}")
        assert response.status_code == 200
        person = response.json()
        assert person["name"] == name and person["known_for_department"] == "Directing"
        directed = {c["title"] for c in person["movie_credits"]["crew"] if c["job"] == "Director"}
        assert directed == films
        dates = [c["release_date"] for c in person["movie_credits"]["crew"] if c["release_date"]]
        assert dates == sorted(dates, reverse=True), "newest first"

    async def test_an_unknown_person_is_404(self, tmdb_client: AsyncClient) -> None:
        response = await tmdb_client.get("/people/2000000000")
        assert response.status_code == 404 and response.json()["code"] == "person_not_found"


class TestPopularPeople:
    async def test_most_popular_first_with_what_they_are_known_for(
        self, tmdb_client: AsyncClient
    ) -> None:
        body = (await tmdb_client.get("/people/popular", params={"per_page": 20})).json()
        popularity = [person["popularity"] for person in body["results"]]
        assert len(popularity) == 20 and popularity == sorted(popularity, reverse=True)
        assert all(1 <= len(person["known_for"]) <= 3 for person in body["results"])


class TestPeopleSearch:
    async def test_a_misspelled_name_finds_the_person(self, tmdb_client: AsyncClient) -> None:
        person_id, name, _ = _most_credited("Director")
        misspelled = name + name[-1]  # "Christopher Nolann"
        body = (await tmdb_client.get("/people/search", params={"q": misspelled})).json()
        assert body["results"][0]["id"] == person_id

    async def test_a_misspelled_surname_finds_the_actor_before_namesakes(
        self, tmdb_client: AsyncClient
    ) -> None:
        body = (await tmdb_client.get("/people/search", params={"q": "Tom Hanx"})).json()
        assert body["results"][0]["name"] == "Tom Hanks"

    async def test_results_are_list_items_as_the_model_writes_them(
        self, tmdb_client: AsyncClient
    ) -> None:
        body = (await tmdb_client.get("/people/search", params={"q": "Michael"})).json()
        assert body["results"] and body["total_results"] >= len(body["results"])
        for item in body["results"]:
            assert PersonListItem.model_validate(item).model_dump(mode="json") == item

    async def test_a_prefix_finds_the_person(self, tmdb_client: AsyncClient) -> None:
        person_id, name, _ = _most_credited("Director")
        body = (await tmdb_client.get("/people/search", params={"q": name[:-3]})).json()
        assert person_id in [person["id"] for person in body["results"][:5]]


class TestRename:
    async def test_a_renamed_actor_is_found_under_the_new_name_in_both_indexes(
        self, client: AsyncClient, admin: Account, resources: Resources
    ) -> None:
        movies = [
            await _movie(client, admin, f"Quarrelwood {n}", "Odalys Brenquist") for n in (1, 2)
        ]
        await sync.drain(resources)
        person_id = movies[0]["cast"][0]["id"]
        renamed = await client.patch(
            f"/people/{person_id}", json={"name": "Odalys Vantongeren"}, headers=admin.headers
        )
        assert renamed.status_code == 200 and renamed.json()["name"] == "Odalys Vantongeren"
        await sync.drain(resources)
        found = (await client.get("/movies/search", params={"q": "Vantongeren"})).json()
        assert sorted(m["id"] for m in found["results"]) == sorted(m["id"] for m in movies)
        people = (await client.get("/people/search", params={"q": "Vantongeren"})).json()
        assert [p["id"] for p in people["results"]] == [person_id]

    async def test_bad_edits_are_refused_and_change_nothing(
        self, client: AsyncClient, admin: Account, user: Account
    ) -> None:
        movie = await _movie(client, admin, "Quarrelwood 3", "Ines Halloran")
        person_id = movie["cast"][0]["id"]
        path = f"/people/{person_id}"
        assert (
            await client.patch(path, json={"name": "X"}, headers=user.headers)
        ).status_code == 403
        for body in ({"name": None}, {"gender": 7}, {"profile_path": "no-slash"}, {"age": 3}):
            response = await client.patch(path, json=body, headers=admin.headers)
            assert response.status_code == 422, body
        assert (
            await client.patch("/people/2000000000", json={"name": "X"}, headers=admin.headers)
        ).status_code == 404
        assert (await client.get(path)).json()["name"] == "Ines Halloran"


async def _movie(client: AsyncClient, admin: Account, title: str, actor: str) -> dict[str, Any]:
    body = {"title": title, "cast": [{"name": actor, "character": "Lead"}]}
    response = await client.post("/movies", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
