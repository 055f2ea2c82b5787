"""`/3/search/*` (TMDB_V3.md 4.6): movies by title only, people with full `known_for` items,
movies then people in `multi`, keywords and companies by name prefix, TV and collections
empty; an empty query answers TMDB's empty page, a search outage 503 code 9. Relevance is
checked on the TMDB catalog (a real server on it), the rest in process."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.movies.models import Company, Keyword
from indexer import make_client
from tests.api.conftest import unique
from tests.tmdb.live import CatalogServer

EMPTY = {"page": 1, "results": [], "total_pages": 1, "total_results": 0}
MOVIE_ITEM_KEYS = {
    "adult", "backdrop_path", "genre_ids", "id", "original_language", "original_title",
    "overview", "popularity", "poster_path", "release_date", "title", "video", "vote_average",
    "vote_count",
}  # fmt: skip
PERSON_ITEM_KEYS = {
    "adult", "gender", "id", "known_for", "known_for_department", "name", "original_name",
    "popularity", "profile_path", "media_type",
}  # fmt: skip


async def get(client: AsyncClient, path: str, key: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params={"api_key": key, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
async def on_tmdb(tmdb_server: CatalogServer) -> AsyncIterator[AsyncClient]:
    """An HTTP client on the server over the TMDB catalog."""
    async with httpx.AsyncClient(base_url=tmdb_server.url, timeout=30) as http:
        yield http


def ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["results"]]


class TestSearchMovie:
    async def test_inception_is_in_the_top_3(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        body = await get(on_tmdb, "/3/search/movie", tmdb_server.key, query="inception")
        assert 27205 in ids(body)[:3]
        inception = next(m for m in body["results"] if m["id"] == 27205)
        assert set(inception) == MOVIE_ITEM_KEYS
        assert inception["release_date"] == "2010-07-14"
        assert 28 in inception["genre_ids"] and all(
            isinstance(g, int) for g in inception["genre_ids"]
        )

    async def test_a_typo_still_finds_interstellar(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        body = await get(on_tmdb, "/3/search/movie", tmdb_server.key, query="Interstelar")
        assert ids(body)[0] == 157336

    async def test_an_exact_title_comes_first(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        body = await get(on_tmdb, "/3/search/movie", tmdb_server.key, query="The Dark Knight")
        assert ids(body)[0] == 155
        assert 49026 in ids(body)  # The Dark Knight Rises

    async def test_titles_only_not_cast_as_native_search_does(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        native = (await on_tmdb.get("/movies/search", params={"q": "Worthington"})).json()
        assert 19995 in [m["id"] for m in native["results"]]  # Avatar, by its cast
        body = await get(on_tmdb, "/3/search/movie", tmdb_server.key, query="Worthington")
        assert 19995 not in ids(body)

    async def test_year_and_primary_release_year_filter(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        key = tmdb_server.key
        in_2009 = await get(on_tmdb, "/3/search/movie", key, query="avatar", year=2009)
        assert ids(in_2009)[0] == 19995
        assert all(m["release_date"].startswith("2009") for m in in_2009["results"])
        in_2010 = await get(
            on_tmdb, "/3/search/movie", key, query="avatar", primary_release_year=2010
        )
        assert 19995 not in ids(in_2010)

    async def test_pages_hold_20_and_follow_on(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        key = tmdb_server.key
        first = await get(on_tmdb, "/3/search/movie", key, query="the")
        second = await get(on_tmdb, "/3/search/movie", key, query="the", page=2)
        assert len(first["results"]) == 20 and first["total_results"] > 40
        assert first["total_pages"] == -(-first["total_results"] // 20)
        assert not set(ids(first)) & set(ids(second))


class TestSearchPerson:
    async def test_a_name_with_a_typo_finds_nolan_with_full_known_for(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        key = tmdb_server.key
        body = await get(on_tmdb, "/3/search/person", key, query="Cristopher Nolan")
        nolan = body["results"][0]
        assert nolan["id"] == 525 and nolan["name"] == "Christopher Nolan"
        assert set(nolan) == PERSON_ITEM_KEYS and nolan["media_type"] == "person"
        assert nolan["known_for_department"] == "Directing"
        known = nolan["known_for"]
        assert len(known) == 3
        assert all(set(m) == MOVIE_ITEM_KEYS | {"media_type"} for m in known)
        assert all(m["media_type"] == "movie" for m in known)
        popularity = [m["popularity"] for m in known]
        assert popularity == sorted(popularity, reverse=True)
        credits = await get(on_tmdb, "/3/person/525/movie_credits", key)
        his = {m["id"] for m in credits["cast"] + credits["crew"]}
        assert {m["id"] for m in known} <= his
        best = sorted(
            {m["id"]: m["popularity"] for m in credits["cast"] + credits["crew"]}.items(),
            key=lambda pair: -pair[1],
        )
        assert [m["id"] for m in known] == [movie_id for movie_id, _ in best[:3]]

    async def test_dicaprio_is_found_by_his_surname(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        body = await get(on_tmdb, "/3/search/person", tmdb_server.key, query="dicaprio")
        assert ids(body)[0] == 6193
        assert body["total_results"] >= 1


class TestSearchMulti:
    async def test_movies_come_first_then_people_and_totals_add_up(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        key = tmdb_server.key
        movies = await get(on_tmdb, "/3/search/movie", key, query="nolan")
        people = await get(on_tmdb, "/3/search/person", key, query="nolan")
        multi = await get(on_tmdb, "/3/search/multi", key, query="nolan")
        assert multi["total_results"] == movies["total_results"] + people["total_results"]
        kinds = [item["media_type"] for item in multi["results"]]
        assert kinds == sorted(kinds)  # every "movie" before every "person"
        assert 525 in [i["id"] for i in multi["results"] if i["media_type"] == "person"]

    async def test_a_page_full_of_movies_still_counts_the_people(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        key, query = tmdb_server.key, "star"
        movies = await get(on_tmdb, "/3/search/movie", key, query=query)
        people = await get(on_tmdb, "/3/search/person", key, query=query)
        multi = await get(on_tmdb, "/3/search/multi", key, query=query)
        assert movies["total_results"] > 20 and people["total_results"] > 0
        assert ids(multi) == ids(movies)
        assert multi["total_results"] == movies["total_results"] + people["total_results"]

    async def test_the_page_where_movies_end_continues_with_the_first_people(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        key, query = tmdb_server.key, "john"
        count = (await get(on_tmdb, "/3/search/movie", key, query=query))["total_results"]
        last, shown = divmod(count, 20)  # the movies end on page last + 1, with `shown` of them
        assert shown > 0 and count < 200, "a query with some movies and many people"
        movies = await get(on_tmdb, "/3/search/movie", key, query=query, page=last + 1)
        people = await _people(on_tmdb, key, query, [1, 2, 3])
        pages = [
            await get(on_tmdb, "/3/search/multi", key, query=query, page=last + n)
            for n in (1, 2, 3)
        ]
        assert ids(pages[0]) == ids(movies) + people[: 20 - shown]
        # The next pages start inside a page of people and end in the next one.
        assert ids(pages[1]) == people[20 - shown : 40 - shown]
        assert ids(pages[2]) == people[40 - shown : 60 - shown]
        assert [i["media_type"] for i in pages[2]["results"]] == ["person"] * 20
        assert all(len(p["results"]) == 20 for p in pages)


async def _people(client: AsyncClient, key: str, query: str, pages: list[int]) -> list[int]:
    found: list[int] = []
    for number in pages:
        found += ids(await get(client, "/3/search/person", key, query=query, page=number))
    return found


class TestEmptyAndOutage:
    @pytest.mark.parametrize("kind", ["movie", "person", "multi", "keyword", "company"])
    @pytest.mark.parametrize("query", [None, "", "   "])
    async def test_an_empty_query_answers_tmdbs_empty_page(
        self, client: AsyncClient, api_key: str, kind: str, query: str | None
    ) -> None:
        params = {} if query is None else {"query": query}
        assert await get(client, f"/3/search/{kind}", api_key, **params) == EMPTY

    @pytest.mark.parametrize("kind", ["tv", "collection"])
    async def test_tv_and_collections_are_always_empty(
        self, client: AsyncClient, api_key: str, kind: str
    ) -> None:
        body = await get(client, f"/3/search/{kind}", api_key, query="friends", page=2)
        assert body == {**EMPTY, "page": 2}

    @pytest.mark.parametrize("kind", ["movie", "person", "multi"])
    async def test_a_search_outage_returns_503_code_9(
        self, app: Any, client: AsyncClient, api_key: str, kind: str
    ) -> None:
        healthy = app.state.meili
        app.state.meili = make_client("http://127.0.0.1:9", "key", 0.5)
        try:
            response = await client.get(
                f"/3/search/{kind}", params={"api_key": api_key, "query": unique("q")}
            )
        finally:
            await app.state.meili.aclose()
            app.state.meili = healthy
        assert response.status_code == 503
        assert response.json() == {
            "success": False,
            "status_code": 9,
            "status_message": (
                "Service offline: This service is temporarily offline, try again later."
            ),
        }

    async def test_page_501_returns_400_code_22(self, client: AsyncClient, api_key: str) -> None:
        params = {"api_key": api_key, "query": "x", "page": "501"}
        response = await client.get("/3/search/movie", params=params)
        assert response.status_code == 400
        assert response.json()["status_code"] == 22

    async def test_without_a_key_returns_401_code_7(self, client: AsyncClient) -> None:
        response = await client.get("/3/search/movie", params={"query": "x"})
        assert response.status_code == 401
        assert response.json()["status_code"] == 7


class TestKeywordsAndCompanies:
    async def test_keywords_by_name_prefix_case_insensitive(
        self, client: AsyncClient, api_key: str, db: AsyncSession
    ) -> None:
        stem = unique("kw")
        names = [f"{stem} alpha", f"{stem} beta", f"x {stem}"]
        rows = [Keyword.model_validate({"name": name}) for name in names]
        db.add_all(rows)
        await db.commit()
        body = await get(client, "/3/search/keyword", api_key, query=stem.upper())
        assert body["results"] == [{"id": r.id, "name": r.name} for r in rows[:2]]
        assert body["total_results"] == 2

    async def test_like_wildcards_in_the_query_are_literal(
        self, client: AsyncClient, api_key: str, db: AsyncSession
    ) -> None:
        stem = unique("kw")
        db.add(Keyword.model_validate({"name": f"{stem}a"}))
        await db.commit()
        for query in (f"{stem[:-1]}_", f"{stem[:3]}%"):
            assert await get(client, "/3/search/keyword", api_key, query=query) == EMPTY

    async def test_companies_have_tmdbs_shape(
        self, client: AsyncClient, api_key: str, db: AsyncSession
    ) -> None:
        company = Company.model_validate({"name": unique("Studio")})
        db.add(company)
        await db.commit()
        body = await get(client, "/3/search/company", api_key, query=company.name[:12])
        assert body["results"] == [
            {"id": company.id, "name": company.name, "logo_path": None, "origin_country": ""}
        ]

    async def test_time_travel_on_the_tmdb_catalog(
        self, on_tmdb: AsyncClient, tmdb_server: CatalogServer
    ) -> None:
        body = await get(on_tmdb, "/3/search/keyword", tmdb_server.key, query="time trav")
        assert body["results"] == [
            {"id": 4379, "name": "time travel"},
            {"id": 176056, "name": "time traveler"},
        ]
        companies = await get(on_tmdb, "/3/search/company", tmdb_server.key, query="warner bros")
        assert {174, 6194} <= set(ids(companies))
        assert all(c["name"].lower().startswith("warner bros") for c in companies["results"])
