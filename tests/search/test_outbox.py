"""The outbox: every catalog write is recorded with it and becomes searchable when drained,
also after a Meilisearch outage."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.outbox import SearchOutbox
from indexer import SearchUnavailable, make_client
from tests.conftest import Account
from worker import sync
from worker.resources import Resources

NEW_MOVIE = {
    "title": "Zyzzogeton Nights",
    "genres": ["Drama", "Quiet Cinema"],
    "cast": [{"name": "Ottoline Varga", "character": "Mara"}],
    "directors": [{"name": "Pell Amsden"}],
    "original_language": "fi",
    "release_date": "1987-03-14",
}


async def pending(db: AsyncSession) -> int:
    stmt = select(func.count()).select_from(SearchOutbox).where(SearchOutbox.processed_at.is_(None))  # type: ignore[union-attr]
    return (await db.execute(stmt)).scalar_one()


async def search(client: AsyncClient, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/movies/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


class TestOutboxDrain:
    async def test_created_movie_is_searchable_after_drain(
        self, client: AsyncClient, admin: Account, resources: Resources, db: AsyncSession
    ) -> None:
        created = (await client.post("/movies", json=NEW_MOVIE, headers=admin.headers)).json()
        assert await pending(db) >= 1
        assert (await search(client, "Zyzzogeton"))["total_results"] == 0
        await sync.drain(resources)
        body = await search(client, "Zyzogeton")  # a typo still finds it
        assert [r["id"] for r in body["results"]] == [created["id"]]
        assert body["facets"]["language"] == {"fi": 1}
        assert await pending(db) == 0

    async def test_update_and_delete_follow_into_the_index(
        self, client: AsyncClient, admin: Account, resources: Resources
    ) -> None:
        movie_id = (await client.post("/movies", json=NEW_MOVIE, headers=admin.headers)).json()[
            "id"
        ]
        await sync.drain(resources)
        await client.patch(
            f"/movies/{movie_id}", json={"title": "Quillback Summer"}, headers=admin.headers
        )
        await sync.drain(resources)
        assert (await search(client, "Quillback"))["total_results"] == 1
        # The original title stays as it was created, so the old name still finds the movie.
        old_name = await search(client, "Zyzzogeton")
        assert [r["title"] for r in old_name["results"]] == ["Quillback Summer"]
        await client.delete(f"/movies/{movie_id}", headers=admin.headers)
        await sync.drain(resources)
        assert (await search(client, "Quillback"))["total_results"] == 0

    async def test_cast_search_and_filter_see_the_new_movie(
        self, client: AsyncClient, admin: Account, resources: Resources
    ) -> None:
        created = (await client.post("/movies", json=NEW_MOVIE, headers=admin.headers)).json()
        await sync.drain(resources)
        body = await search(client, "Ottoline")
        assert body["results"][0]["highlights"]["cast"] == ["<mark>Ottoline</mark> Varga"]
        person_id = created["cast"][0]["id"]
        response = await client.get(
            "/movies/filter", params={"cast": str(person_id), "genre": "quiet cinema"}
        )
        assert [r["id"] for r in response.json()["results"]] == [created["id"]]


class TestOutage:
    async def test_writes_during_an_outage_become_searchable_after_it(
        self, client: AsyncClient, admin: Account, resources: Resources, db: AsyncSession
    ) -> None:
        movie_id = (await client.post("/movies", json=NEW_MOVIE, headers=admin.headers)).json()[
            "id"
        ]
        healthy = resources.meili
        resources.meili = make_client("http://127.0.0.1:9", "key", 0.5)  # nothing listens there
        try:
            try:
                await sync.drain(resources)
                raise AssertionError("drain should fail while Meilisearch is down")
            except SearchUnavailable:
                pass
            assert await pending(db) >= 1, "a failed drain must not mark entries done"
        finally:
            await resources.meili.aclose()
            resources.meili = healthy
        await sync.drain(resources)
        assert [r["id"] for r in (await search(client, "Zyzzogeton"))["results"]] == [movie_id]
        assert await pending(db) == 0

    async def test_search_answers_503_when_meilisearch_is_down(
        self, app, client: AsyncClient
    ) -> None:  # type: ignore[no-untyped-def]
        healthy = app.state.meili
        app.state.meili = make_client("http://127.0.0.1:9", "key", 0.5)
        try:
            searched = await client.get("/movies/search", params={"q": "anything"})
            filtered = await client.get("/movies/filter")
            listed = await client.get("/movies")
        finally:
            await app.state.meili.aclose()
            app.state.meili = healthy
        for response in (searched, filtered):
            assert response.status_code == 503
            assert response.json()["code"] == "search_unavailable"
        assert listed.status_code == 200, "the database-served list must not depend on search"


@pytest.mark.usefixtures("cache_on")
class TestCachedSearch:
    async def test_cached_search_refreshes_once_the_worker_indexed_the_change(
        self, client: AsyncClient, admin: Account, resources: Resources
    ) -> None:
        movie_id = (await client.post("/movies", json=NEW_MOVIE, headers=admin.headers)).json()[
            "id"
        ]
        await sync.drain(resources)
        assert (await search(client, "Zyzzogeton"))["results"][0]["runtime"] is None
        await client.patch(f"/movies/{movie_id}", json={"runtime": 77}, headers=admin.headers)
        # Until the worker has indexed the change, search answers what the index holds...
        assert (await search(client, "Zyzzogeton"))["results"][0]["runtime"] is None
        await sync.drain(resources)
        # ...and once it has, the cached answer is gone.
        assert (await search(client, "Zyzzogeton"))["results"][0]["runtime"] == 77
