"""The Redis cache of people pages, popular people and similar lists: served from Redis until a
write, exact after it (an edit of a person or a movie refreshes every answer that shows it, and
no answer keyed apart from it), optional (Redis down: served uncached). HTTP caching: ETag, 304."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from api.cache import PEOPLE, SEARCH, Cache, person_scope
from api.movies.models import CrewCredit, Genre, Movie, MovieDirector
from api.people.models import Person
from tests.api.conftest import Catalog, ids, unique
from tests.conftest import Account

# Far above any other row's popularity: the test's people and movies rank first.
TOP = 987_654.0


def id_of(row: Movie | Person | Genre) -> int:
    assert row.id is not None
    return row.id


async def get_json(client: AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def edit(
    client: AsyncClient,
    admin: Account,
    path: str,
    body: dict[str, Any] | None = None,
    method: str = "PATCH",
) -> Any:
    """An admin's write through the API (it bumps what it changed)."""
    response = await client.request(method, path, json=body, headers=admin.headers)
    assert response.is_success, response.text
    return response.json() if response.content else None


async def behind_the_cache(
    db: AsyncSession, model: type[Movie] | type[Person], row_id: int, **values: Any
) -> None:
    """Change a row without going through the API: no cache version moves."""
    await db.execute(update(model).where(model.id == row_id).values(**values))  # type: ignore[arg-type]
    await db.commit()


async def crew(db: AsyncSession, movie: Movie, person: Person) -> None:
    """Credit them as the movie's writer (before any read: no cache version moves)."""
    credit = {"movie_id": movie.id, "person_id": person.id, "department": "Writing"}
    db.add(CrewCredit.model_validate({**credit, "job": "Screenplay"}))
    await db.commit()


async def director(db: AsyncSession, movie: Movie, person: Person) -> None:
    db.add(MovieDirector.model_validate({"movie_id": movie.id, "person_id": person.id}))
    await db.commit()


async def popular(db: AsyncSession, person: Person, popularity: float = TOP) -> None:
    """Make them popular (before any read): popularity is the worker's to derive."""
    await behind_the_cache(db, Person, id_of(person), popularity=popularity)


def titles(page: dict[str, Any], part: str = "cast") -> list[str]:
    return [credit["title"] for credit in page["movie_credits"][part]]


def names(movie: dict[str, Any], part: str) -> list[str]:
    return [person["name"] for person in movie[part]]


@pytest.mark.usefixtures("cache_on")
class TestServedFromTheCache:
    async def test_a_person_page_is_served_from_the_cache(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession
    ) -> None:
        person = await catalog.person("Ada Quill")
        movie = await catalog.movie("Quiet Harbour", cast=[person])
        page = await get_json(client, f"/people/{person.id}")
        assert (page["name"], titles(page)) == ("Ada Quill", ["Quiet Harbour"])
        await behind_the_cache(db, Person, id_of(person), name="Ada Renamed")
        await behind_the_cache(db, Movie, id_of(movie), title="Harbour Renamed")
        page = await get_json(client, f"/people/{person.id}")
        assert (page["name"], titles(page)) == ("Ada Quill", ["Quiet Harbour"])

    async def test_popular_people_are_served_from_the_cache(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession
    ) -> None:
        person = await catalog.person("Bo Lantern")
        await catalog.movie("Lantern Days", cast=[person])
        await popular(db, person)
        first = (await get_json(client, "/people/popular"))["results"][0]
        assert (first["id"], first["name"]) == (person.id, "Bo Lantern")
        await behind_the_cache(db, Person, id_of(person), name="Bo Renamed")
        first = (await get_json(client, "/people/popular"))["results"][0]
        assert (first["name"], first["known_for"][0]["title"]) == ("Bo Lantern", "Lantern Days")

    async def test_a_similar_list_is_served_from_the_cache(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession
    ) -> None:
        genre = await catalog.genre(unique("Alike"))
        movie = await catalog.movie(genres=[genre])
        alike = await catalog.movie("Twin Peak", genres=[genre])
        path = f"/movies/{movie.id}/similar"
        assert [m["title"] for m in (await get_json(client, path))["results"]] == ["Twin Peak"]
        await behind_the_cache(db, Movie, id_of(alike), title="Twin Renamed")
        assert [m["title"] for m in (await get_json(client, path))["results"]] == ["Twin Peak"]


@pytest.mark.usefixtures("cache_on")
class TestPersonEdit:
    async def test_an_edit_refreshes_their_page_popular_people_and_their_movies(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession, admin: Account
    ) -> None:
        person = await catalog.person("Cy Before")
        acted = await catalog.movie(cast=[person])
        written, directed = await catalog.movie(), await catalog.movie()
        await crew(db, written, person)
        await director(db, directed, person)
        await popular(db, person)
        paths = [f"/people/{person.id}", "/people/popular"]
        paths += [f"/movies/{m.id}" for m in (acted, written, directed)]
        for path in paths:
            await get_json(client, path)
        await edit(client, admin, f"/people/{person.id}", {"name": "Cy After"})
        assert (await get_json(client, f"/people/{person.id}"))["name"] == "Cy After"
        assert (await get_json(client, "/people/popular"))["results"][0]["name"] == "Cy After"
        assert names(await get_json(client, f"/movies/{acted.id}"), "cast") == ["Cy After"]
        assert names(await get_json(client, f"/movies/{written.id}"), "crew") == ["Cy After"]
        assert names(await get_json(client, f"/movies/{directed.id}"), "directors") == ["Cy After"]

    async def test_an_edit_leaves_other_movies_cached(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession, admin: Account
    ) -> None:
        edited, other = await catalog.person(), await catalog.person()
        theirs = await catalog.movie(cast=[edited])
        unrelated = await catalog.movie("Left Alone", cast=[other])
        assert (await get_json(client, f"/movies/{unrelated.id}"))["title"] == "Left Alone"
        await behind_the_cache(db, Movie, id_of(unrelated), title="Renamed Unseen")
        await edit(client, admin, f"/people/{edited.id}", {"name": unique("Edited")})
        await edit(client, admin, f"/movies/{theirs.id}", {"title": "Edited Too"})
        # Movie details are keyed by the movie alone: a stranger's edit keeps them cached.
        assert (await get_json(client, f"/movies/{unrelated.id}"))["title"] == "Left Alone"

    async def test_a_refresh_of_derived_fields_evicts_only_that_persons_page(
        self, app: Any, client: AsyncClient, catalog: Catalog, db: AsyncSession
    ) -> None:
        refreshed, other = await catalog.person(), await catalog.person()
        await catalog.movie(cast=[refreshed, other])
        await popular(db, refreshed, TOP + 1)
        await popular(db, other, TOP)
        for path in (f"/people/{refreshed.id}", f"/people/{other.id}", "/people/popular"):
            await get_json(client, path)
        await behind_the_cache(db, Person, id_of(refreshed), popularity=TOP + 3)
        await behind_the_cache(db, Person, id_of(other), popularity=TOP + 2)
        # What the worker sends once it recomputed one person's popularity (worker/sync.py).
        await app.state.cache.bump([SEARCH, PEOPLE, person_scope(id_of(refreshed))])
        assert (await get_json(client, f"/people/{refreshed.id}"))["popularity"] == TOP + 3
        assert (await get_json(client, f"/people/{other.id}"))["popularity"] == TOP
        top = (await get_json(client, "/people/popular", per_page=2))["results"]
        assert [(p["id"], p["popularity"]) for p in top] == [
            (refreshed.id, TOP + 3),
            (other.id, TOP + 2),
        ]


@pytest.mark.usefixtures("cache_on")
class TestMovieEdit:
    async def test_an_edit_refreshes_the_pages_of_its_cast_and_crew(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession, admin: Account
    ) -> None:
        actor, writer, directing = [await catalog.person() for _ in range(3)]
        movie = await catalog.movie("Old Title", cast=[actor])
        await crew(db, movie, writer)
        await director(db, movie, directing)
        await popular(db, actor)
        for person in (actor, writer, directing):
            await get_json(client, f"/people/{person.id}")
        await get_json(client, "/people/popular")
        body = {"title": "New Title", "popularity": 42.5}
        await edit(client, admin, f"/movies/{movie.id}", body, method="PUT")
        credit = (await get_json(client, f"/people/{actor.id}"))["movie_credits"]["cast"][0]
        assert (credit["title"], credit["popularity"]) == ("New Title", 42.5)
        for person in (writer, directing):
            assert titles(await get_json(client, f"/people/{person.id}"), "crew") == ["New Title"]
        first = (await get_json(client, "/people/popular"))["results"][0]
        assert (first["id"], first["known_for"][0]["title"]) == (actor.id, "New Title")

    async def test_an_edit_that_drops_a_person_refreshes_their_page(
        self, client: AsyncClient, catalog: Catalog, admin: Account
    ) -> None:
        dropped, kept = await catalog.person(), await catalog.person()
        movie = await catalog.movie(cast=[dropped, kept])
        assert len((await get_json(client, f"/people/{dropped.id}"))["movie_credits"]["cast"]) == 1
        await edit(client, admin, f"/movies/{movie.id}", {"cast": [{"person_id": kept.id}]})
        assert (await get_json(client, f"/people/{dropped.id}"))["movie_credits"]["cast"] == []

    async def test_an_edit_refreshes_the_similar_lists_that_hold_it(
        self, client: AsyncClient, catalog: Catalog, admin: Account
    ) -> None:
        genre = await catalog.genre(unique("Alike"))
        base = await catalog.movie(genres=[genre])
        edited = await catalog.movie("Was Second", genres=[genre], popularity=1.0)
        first = await catalog.movie(genres=[genre], popularity=2.0)
        path = f"/movies/{base.id}/similar"
        assert ids(await get_json(client, path)) == [first.id, edited.id]
        await edit(client, admin, f"/movies/{edited.id}", {"title": "Now First", "popularity": 3.0})
        results = (await get_json(client, path))["results"]
        assert [(m["id"], m["title"]) for m in results] == [
            (edited.id, "Now First"),
            (first.id, first.title),
        ]

    async def test_an_edit_refreshes_its_own_similar_list(
        self, client: AsyncClient, catalog: Catalog, admin: Account
    ) -> None:
        old, new = await catalog.genre(unique("Old")), await catalog.genre(unique("New"))
        movie = await catalog.movie(genres=[old])
        was_alike = await catalog.movie(genres=[old])
        now_alike = await catalog.movie(genres=[new])
        path = f"/movies/{movie.id}/similar"
        assert ids(await get_json(client, path)) == [was_alike.id]
        await edit(client, admin, f"/movies/{movie.id}", {"genres": [new.id]})
        assert ids(await get_json(client, path)) == [now_alike.id]

    async def test_a_new_movie_joins_person_pages_and_similar_lists(
        self, client: AsyncClient, catalog: Catalog, admin: Account
    ) -> None:
        genre = await catalog.genre(unique("Alike"))
        person = await catalog.person()
        movie = await catalog.movie("First Film", genres=[genre], cast=[person])
        assert titles(await get_json(client, f"/people/{person.id}")) == ["First Film"]
        assert ids(await get_json(client, f"/movies/{movie.id}/similar")) == []
        body = {
            "title": "Second Film",
            "genres": [genre.id],
            "directors": [{"person_id": person.id}],
        }
        created = await edit(client, admin, "/movies", body, method="POST")
        page = await get_json(client, f"/people/{person.id}")
        assert (titles(page), titles(page, "crew")) == (["First Film"], ["Second Film"])
        assert ids(await get_json(client, f"/movies/{movie.id}/similar")) == [created["id"]]

    async def test_a_deleted_movie_leaves_person_pages_and_similar_lists(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession, admin: Account
    ) -> None:
        genre = await catalog.genre(unique("Alike"))
        person = await catalog.person()
        kept = await catalog.movie("Still Here", genres=[genre], cast=[person])
        doomed = await catalog.movie("Going Away", genres=[genre], cast=[person], popularity=9.0)
        await popular(db, person)
        page = await get_json(client, f"/people/{person.id}")
        assert sorted(titles(page)) == ["Going Away", "Still Here"]
        assert ids(await get_json(client, f"/movies/{kept.id}/similar")) == [doomed.id]
        known = (await get_json(client, "/people/popular"))["results"][0]["known_for"]
        assert [m["title"] for m in known] == ["Going Away", "Still Here"]
        await edit(client, admin, f"/movies/{doomed.id}", method="DELETE")
        assert titles(await get_json(client, f"/people/{person.id}")) == ["Still Here"]
        assert ids(await get_json(client, f"/movies/{kept.id}/similar")) == []
        known = (await get_json(client, "/people/popular"))["results"][0]["known_for"]
        assert [m["title"] for m in known] == ["Still Here"]
        assert (await client.get(f"/movies/{doomed.id}/similar")).status_code == 404


class TestHttpCaching:
    async def test_people_pages_and_similar_lists_answer_304_to_their_etag(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession
    ) -> None:
        genre = await catalog.genre(unique("Alike"))
        person = await catalog.person()
        movie = await catalog.movie(genres=[genre], cast=[person])
        await catalog.movie(genres=[genre])
        await popular(db, person)
        for path in (f"/people/{person.id}", "/people/popular", f"/movies/{movie.id}/similar"):
            first = await client.get(path)
            assert first.status_code == 200 and first.headers["cache-control"] == "public, no-cache"
            etag = first.headers["etag"]
            again = await client.get(path, headers={"If-None-Match": etag})
            assert again.status_code == 304 and again.content == b"", path
            assert again.headers["etag"] == etag

    @pytest.mark.usefixtures("cache_on")
    async def test_a_cached_answer_keeps_its_etag_until_a_write(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession, admin: Account
    ) -> None:
        person = await catalog.person()
        await catalog.movie(cast=[person])
        path = f"/people/{person.id}"
        etag = (await client.get(path)).headers["etag"]
        await behind_the_cache(db, Person, id_of(person), name=unique("Unseen"))
        hit = await client.get(path, headers={"If-None-Match": f"W/{etag}"})
        assert hit.status_code == 304 and hit.headers["etag"] == etag
        await edit(client, admin, path, {"name": "Seen Now"})
        fresh = await client.get(path, headers={"If-None-Match": etag})
        assert fresh.status_code == 200 and fresh.json()["name"] == "Seen Now"
        assert fresh.headers["etag"] != etag

    async def test_an_edit_changes_their_etags(
        self, client: AsyncClient, catalog: Catalog, db: AsyncSession, admin: Account
    ) -> None:
        genre = await catalog.genre(unique("Alike"))
        person = await catalog.person()
        movie = await catalog.movie(genres=[genre], cast=[person])
        alike = await catalog.movie(genres=[genre])
        await popular(db, person)
        paths = (f"/people/{person.id}", "/people/popular", f"/movies/{alike.id}/similar")
        etags = {path: (await client.get(path)).headers["etag"] for path in paths}
        await edit(client, admin, f"/movies/{movie.id}", {"title": "Edited Since"})
        for path in paths:
            fresh = await client.get(path, headers={"If-None-Match": etags[path]})
            assert fresh.status_code == 200 and fresh.headers["etag"] != etags[path], path
            assert "Edited Since" in fresh.text, path


@asynccontextmanager
async def redis_down(app: Any) -> AsyncIterator[None]:
    """The app's cache on a Redis that does not answer, for the time of the block."""
    real = app.state.cache
    down = Redis(host="127.0.0.1", port=9, socket_timeout=0.2, socket_connect_timeout=0.2)
    app.state.cache = cache = Cache(down, 300)
    try:
        yield
    finally:
        app.state.cache = real
        # It retries the invalidations Redis did not take until Redis does: here, never.
        if cache._resend is not None:
            cache._resend.cancel()
        await down.aclose()


class TestWithoutRedis:
    async def test_people_pages_and_similar_lists_are_served_uncached(
        self, app: Any, client: AsyncClient, catalog: Catalog, db: AsyncSession, admin: Account
    ) -> None:
        genre = await catalog.genre(unique("Alike"))
        person = await catalog.person("Di Offline")
        movie = await catalog.movie(genres=[genre], cast=[person])
        alike = await catalog.movie("Offline Twin", genres=[genre])
        await popular(db, person)
        async with redis_down(app):
            assert (await get_json(client, f"/people/{person.id}"))["name"] == "Di Offline"
            assert (await get_json(client, "/people/popular"))["results"][0]["name"] == "Di Offline"
            similar = (await get_json(client, f"/movies/{movie.id}/similar"))["results"]
            assert [m["title"] for m in similar] == ["Offline Twin"]
            await behind_the_cache(db, Movie, id_of(alike), title="Offline Renamed")
            similar = (await get_json(client, f"/movies/{movie.id}/similar"))["results"]
            assert [m["title"] for m in similar] == ["Offline Renamed"]
            await edit(client, admin, f"/people/{person.id}", {"name": "Di Online"})
            assert (await get_json(client, f"/people/{person.id}"))["name"] == "Di Online"
            assert (await get_json(client, "/people/popular"))["results"][0]["name"] == "Di Online"
