"""`/3/discover/movie` (TMDB_V3.md 4.5): TMDB's filters over Marquee's catalog (`,` all of them,
`|` any of them, in every id list), its sort keys, its errors (400 code 23 for a bad date, 422
code 5 for a bad or unsupported parameter); then AND against OR on the TMDB catalog."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.movies.models import (
    Company,
    CrewCredit,
    Genre,
    Keyword,
    Movie,
    MovieCompany,
    MovieCountry,
    MovieKeyword,
)
from api.people.models import Person
from tests.api.conftest import Catalog, unique
from tests.tmdb.live import CatalogServer

DISCOVER = "/3/discover/movie"


@dataclass
class World:
    """Three movies, each filter telling them apart: A (g1), B (g2), C (g1 and g2)."""

    g1: Genre
    g2: Genre
    p1: Person
    p2: Person
    director: Person
    k1: Keyword
    k2: Keyword
    c1: Company
    c2: Company
    a: Movie
    b: Movie
    c: Movie

    @property
    def both(self) -> str:
        return f"{self.g1.id}|{self.g2.id}"

    def name(self, movie_id: int) -> str:
        return {self.a.id: "A", self.b.id: "B", self.c.id: "C"}.get(movie_id, str(movie_id))


async def _named(db: AsyncSession, model: type[Keyword] | type[Company]) -> Any:
    row = model.model_validate({"name": unique(model.__name__)})
    db.add(row)
    await db.flush()
    return row


async def _link(db: AsyncSession, *rows: Any) -> None:
    db.add_all(rows)
    await db.commit()


@pytest.fixture
async def world(catalog: Catalog, db: AsyncSession) -> World:
    g1, g2 = await catalog.genre(), await catalog.genre()
    p1, p2, director = await catalog.person(), await catalog.person(), await catalog.person()
    a = await catalog.movie(
        "Alpha", [g1], [p1], original_title="Zeta", popularity=10.0, vote_average=7.0,
        vote_count=100, release_date=date(2001, 5, 1), runtime=90, original_language="en",
        revenue=500,
    )  # fmt: skip
    b = await catalog.movie(
        "Beta", [g2], [p2], original_title="Alef", popularity=30.0, vote_average=5.0,
        vote_count=10, release_date=date(2005, 1, 1), runtime=150, original_language="fr",
        revenue=100,
    )  # fmt: skip
    c = await catalog.movie(
        "Gamma", [g1, g2], [p1, p2], original_title="Mu", popularity=20.0, vote_average=9.0,
        vote_count=1000, release_date=date(2010, 7, 16), runtime=120, original_language="en",
        revenue=900,
    )  # fmt: skip
    k1, k2 = await _named(db, Keyword), await _named(db, Keyword)
    c1, c2 = await _named(db, Company), await _named(db, Company)
    crew = {"person_id": director.id, "department": "Directing", "job": "Director"}
    await _link(
        db,
        CrewCredit.model_validate({"movie_id": c.id, **crew}),
        MovieKeyword.model_validate({"movie_id": a.id, "keyword_id": k1.id}),
        MovieKeyword.model_validate({"movie_id": c.id, "keyword_id": k1.id}),
        MovieKeyword.model_validate({"movie_id": c.id, "keyword_id": k2.id}),
        MovieCompany.model_validate({"movie_id": b.id, "company_id": c1.id}),
        MovieCompany.model_validate({"movie_id": c.id, "company_id": c2.id}),
        MovieCountry.model_validate({"movie_id": a.id, "iso_3166_1": "GB", "name": "UK"}),
        MovieCountry.model_validate({"movie_id": c.id, "iso_3166_1": "US", "name": "USA"}),
    )
    return World(g1, g2, p1, p2, director, k1, k2, c1, c2, a, b, c)


async def discover(client: AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    response = await client.get(DISCOVER, params={"api_key": key, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


async def found(client: AsyncClient, key: str, world: World, **params: Any) -> list[str]:
    """The movies discovered, by their letter, in the order answered."""
    body = await discover(client, key, **params)
    assert body["total_results"] == len(body["results"])
    return [world.name(item["id"]) for item in body["results"]]


def dotted(**params: Any) -> dict[str, Any]:
    """`vote_average__gte` -> `vote_average.gte`, as clients send them."""
    return {name.replace("__", "."): value for name, value in params.items()}


class TestIdLists:
    async def test_comma_is_and_pipe_is_or_in_with_genres(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        both = f"{world.g1.id},{world.g2.id}"
        assert await found(client, api_key, world, with_genres=both) == ["C"]
        assert await found(client, api_key, world, with_genres=world.both) == ["B", "C", "A"]

    async def test_a_mix_is_all_of_the_comma_terms_each_any_of_its_pipes(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        mixed = f"{world.g2.id},{world.g1.id}|{world.g2.id}"
        assert await found(client, api_key, world, with_genres=mixed) == ["B", "C"]
        cast = f"{world.p1.id},{world.p2.id}|{world.director.id}"
        assert await found(client, api_key, world, with_cast=cast) == ["C"]

    async def test_without_genres_leaves_out_movies_having_any_of_them(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        found_a = await found(
            client, api_key, world, with_genres=world.both, without_genres=world.g2.id
        )
        assert found_a == ["A"]
        either = {"with_genres": world.both, "without_genres": f"{world.g1.id},{world.g2.id}"}
        assert await found(client, api_key, world, **either) == []

    async def test_with_cast_and_or(self, client: AsyncClient, api_key: str, world: World) -> None:
        both, either = f"{world.p1.id},{world.p2.id}", f"{world.p1.id}|{world.p2.id}"
        assert await found(client, api_key, world, with_cast=both) == ["C"]
        assert await found(client, api_key, world, with_cast=either) == ["B", "C", "A"]

    async def test_with_crew_matches_crew_jobs_and_with_people_cast_or_crew(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        assert await found(client, api_key, world, with_crew=world.director.id) == ["C"]
        assert await found(client, api_key, world, with_cast=world.director.id) == []
        people = f"{world.director.id}|{world.p2.id}"
        assert await found(client, api_key, world, with_people=people) == ["B", "C"]
        together = f"{world.director.id},{world.p1.id}"
        assert await found(client, api_key, world, with_people=together) == ["C"]

    async def test_keywords_and_or_and_without(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        k1, k2 = world.k1.id, world.k2.id
        assert await found(client, api_key, world, with_keywords=f"{k1},{k2}") == ["C"]
        assert await found(client, api_key, world, with_keywords=f"{k1}|{k2}") == ["C", "A"]
        rest = {"with_genres": world.both, "without_keywords": k1}
        assert await found(client, api_key, world, **rest) == ["B"]

    async def test_companies_and_or_and_without(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        c1, c2 = world.c1.id, world.c2.id
        assert await found(client, api_key, world, with_companies=f"{c1}|{c2}") == ["B", "C"]
        assert await found(client, api_key, world, with_companies=f"{c1},{c2}") == []
        rest = {"with_genres": world.both, "without_companies": f"{c1}|{c2}"}
        assert await found(client, api_key, world, **rest) == ["A"]

    async def test_with_origin_country_reads_the_production_countries(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        scoped = {"with_genres": world.both}
        assert await found(client, api_key, world, **scoped, with_origin_country="US|gb") == [
            "C",
            "A",
        ]
        assert await found(client, api_key, world, **scoped, with_origin_country="US,GB") == []

    @pytest.mark.parametrize("value", ["abc", "28,", "1|x", "0", "-3", "²"])
    async def test_an_id_list_that_is_not_ids_returns_422_code_5(
        self, client: AsyncClient, api_key: str, value: str
    ) -> None:
        response = await client.get(DISCOVER, params={"api_key": api_key, "with_genres": value})
        assert response.status_code == 422
        assert response.json()["status_code"] == 5
        assert "with_genres" in response.json()["status_message"]


class TestValueFilters:
    async def test_release_date_bounds_are_inclusive(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        scoped = {"with_genres": world.both}
        later = dotted(primary_release_date__gte="2005-01-01", **scoped)
        assert await found(client, api_key, world, **later) == ["B", "C"]
        earlier = dotted(release_date__lte="2005-01-01", **scoped)
        assert await found(client, api_key, world, **earlier) == ["B", "A"]

    async def test_years_keep_the_movies_released_that_year(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        scoped = {"with_genres": world.both}
        assert await found(client, api_key, world, **scoped, year=2010) == ["C"]
        assert await found(client, api_key, world, **scoped, primary_release_year=2001) == ["A"]
        conflicting = {"year": 2010, "primary_release_year": 2001}
        assert await found(client, api_key, world, **scoped, **conflicting) == []

    async def test_votes_and_runtime_bounds(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        scoped = {"with_genres": world.both}
        votes = dotted(vote_average__gte=6, vote_average__lte=8.5, **scoped)
        assert await found(client, api_key, world, **votes) == ["A"]
        counts = dotted(vote_count__lte=100, **scoped)
        assert await found(client, api_key, world, **counts) == ["B", "A"]
        assert await found(client, api_key, world, **dotted(vote_count__gte=11, **scoped)) == [
            "C",
            "A",
        ]
        runtime = dotted(with_runtime__gte=100, with_runtime__lte=130, **scoped)
        assert await found(client, api_key, world, **runtime) == ["C"]

    async def test_original_language(self, client: AsyncClient, api_key: str, world: World) -> None:
        scoped = {"with_genres": world.both}
        assert await found(client, api_key, world, **scoped, with_original_language="fr") == ["B"]
        either = {"with_original_language": "en|FR"}
        assert await found(client, api_key, world, **scoped, **either) == ["B", "C", "A"]
        assert await found(client, api_key, world, **scoped, with_original_language="en,fr") == []

    @pytest.mark.parametrize("bad", ["2020-13-01", "yesterday", "2020-1-5", "20200105"])
    async def test_a_bad_date_returns_400_code_23(
        self, client: AsyncClient, api_key: str, bad: str
    ) -> None:
        params = {"api_key": api_key, "primary_release_date.gte": bad}
        response = await client.get(DISCOVER, params=params)
        assert response.status_code == 400
        assert response.json() == {
            "success": False,
            "status_code": 23,
            "status_message": "Invalid date: Format needs to be YYYY-MM-DD.",
        }

    @pytest.mark.parametrize(
        ("name", "value"),
        [("vote_average.gte", "nan"), ("vote_count.lte", "many"), ("year", "1990s")],
    )
    async def test_a_bad_number_returns_422_code_5(
        self, client: AsyncClient, api_key: str, name: str, value: str
    ) -> None:
        response = await client.get(DISCOVER, params={"api_key": api_key, name: value})
        assert response.status_code == 422
        assert response.json()["status_code"] == 5


class TestSort:
    @pytest.mark.parametrize(
        ("sort_by", "expected"),
        [
            (None, ["B", "C", "A"]),
            ("popularity.asc", ["A", "C", "B"]),
            ("vote_average.desc", ["C", "A", "B"]),
            ("vote_count.asc", ["B", "A", "C"]),
            ("primary_release_date.asc", ["A", "B", "C"]),
            ("release_date.desc", ["C", "B", "A"]),
            ("title.desc", ["C", "B", "A"]),
            ("original_title.asc", ["B", "C", "A"]),
            ("revenue.desc", ["C", "A", "B"]),
        ],
    )
    async def test_each_sort_key(
        self,
        client: AsyncClient,
        api_key: str,
        world: World,
        sort_by: str | None,
        expected: list[str],
    ) -> None:
        sort = {"sort_by": sort_by} if sort_by else {}
        assert await found(client, api_key, world, with_genres=world.both, **sort) == expected

    async def test_ties_break_by_id_so_pages_never_overlap(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        made = [(await catalog.movie(genres=[genre], popularity=5.0)).id or 0 for _ in range(23)]
        pages = [
            await discover(client, api_key, with_genres=genre.id, page=n, sort_by="popularity.asc")
            for n in (1, 2)
        ]
        listed = [item["id"] for body in pages for item in body["results"]]
        assert listed == sorted(made)
        assert [(b["page"], b["total_pages"], b["total_results"]) for b in pages] == [
            (1, 2, 23),
            (2, 2, 23),
        ]

    async def test_an_unknown_sort_returns_422_code_5(
        self, client: AsyncClient, api_key: str
    ) -> None:
        for sort_by in ("budget.desc", "popularity", "rating.desc"):
            params = {"api_key": api_key, "sort_by": sort_by}
            response = await client.get(DISCOVER, params=params)
            assert response.status_code == 422, sort_by
            assert response.json()["status_code"] == 5


class TestAnswer:
    async def test_items_are_tmdbs_list_items(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        body = await discover(client, api_key, with_crew=world.director.id)
        assert (body["page"], body["total_pages"], body["total_results"]) == (1, 1, 1)
        [item] = body["results"]
        assert item["id"] == world.c.id
        assert set(item["genre_ids"]) == {world.g1.id, world.g2.id}
        assert item["release_date"] == "2010-07-16"
        assert (item["title"], item["original_title"]) == ("Gamma", "Mu")
        assert (item["vote_average"], item["vote_count"]) == (9, 1000)
        assert item["adult"] is False and item["video"] is False
        assert "media_type" not in item

    async def test_a_page_past_the_end_is_empty_with_the_true_totals(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        body = await discover(client, api_key, with_genres=world.both, page=2)
        assert body == {"page": 2, "results": [], "total_pages": 1, "total_results": 3}

    async def test_page_0_returns_400_code_22(self, client: AsyncClient, api_key: str) -> None:
        response = await client.get(DISCOVER, params={"api_key": api_key, "page": 0})
        assert response.status_code == 400
        assert response.json()["status_code"] == 22

    async def test_ignored_parameters_change_nothing(
        self, client: AsyncClient, api_key: str, world: World
    ) -> None:
        ignored = {
            "language": "de-DE",
            "region": "FR",
            "watch_region": "US",
            "include_adult": "true",
            "include_video": "False",
            "include_image_language": "null",
            "with_watch_providers": "",
        }
        scoped = {"with_genres": world.both}
        assert await found(client, api_key, world, **scoped, **ignored) == ["B", "C", "A"]

    @pytest.mark.parametrize(
        "name",
        [
            "certification",
            "certification.lte",
            "certification_country",
            "with_release_type",
            "with_watch_providers",
            "without_watch_providers",
            "with_watch_monetization_types",
        ],
    )
    async def test_a_filter_marquee_cannot_apply_returns_422_code_5_naming_it(
        self, client: AsyncClient, api_key: str, name: str
    ) -> None:
        response = await client.get(DISCOVER, params={"api_key": api_key, name: "3"})
        assert response.status_code == 422
        body = response.json()
        assert body["success"] is False and body["status_code"] == 5
        assert body["status_message"].startswith("Invalid parameters:")
        assert f" {name}:" in body["status_message"]

    async def test_without_a_key_returns_401_code_7(self, client: AsyncClient) -> None:
        response = await client.get(DISCOVER)
        assert response.status_code == 401
        assert response.json()["status_code"] == 7


class TestOnTheTmdbCatalog:
    async def _get(self, server: CatalogServer, path: str, **params: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            response = await http.get(path, params={"api_key": server.key, **params})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def test_and_and_or_of_action_and_adventure_differ_and_hold(
        self, tmdb_server: CatalogServer
    ) -> None:
        both = await self._get(tmdb_server, DISCOVER, with_genres="28,12")
        either = await self._get(tmdb_server, DISCOVER, with_genres="28|12")
        native = await self._get(tmdb_server, "/movies", genre="28,12")
        native_either = await self._get(tmdb_server, "/movies", genre="28|12")
        assert both["total_results"] == native["total_results"] > 0
        assert either["total_results"] == native_either["total_results"]
        assert either["total_results"] > both["total_results"]
        assert all({28, 12} <= set(m["genre_ids"]) for m in both["results"])
        assert all({28, 12} & set(m["genre_ids"]) for m in either["results"])
        assert any(not {28, 12} <= set(m["genre_ids"]) for m in either["results"])
        assert [m["id"] for m in both["results"]] == [m["id"] for m in native["results"]]

    async def test_nolan_directing_dicaprio_is_inception(self, tmdb_server: CatalogServer) -> None:
        nolan = await self._get(tmdb_server, DISCOVER, with_crew=525)
        nolan_ids = [m["id"] for m in nolan["results"]]
        assert {27205, 155} <= set(nolan_ids)
        together = await self._get(tmdb_server, DISCOVER, with_cast=6193, with_crew=525)
        assert [m["id"] for m in together["results"]] == [27205]
        either = await self._get(tmdb_server, DISCOVER, with_people="6193|525")
        assert either["total_results"] > nolan["total_results"]

    async def test_vote_average_desc_with_a_vote_floor(self, tmdb_server: CatalogServer) -> None:
        params = {"sort_by": "vote_average.desc", "vote_count.gte": 5000, "with_genres": 878}
        body = await self._get(tmdb_server, DISCOVER, **params)
        averages = [m["vote_average"] for m in body["results"]]
        assert averages == sorted(averages, reverse=True)
        assert all(m["vote_count"] >= 5000 for m in body["results"])
        assert 157336 in [m["id"] for m in body["results"]]  # Interstellar


@pytest.mark.usefixtures("cache_on")
class TestCached:
    async def test_a_repeat_is_served_from_the_cache_until_the_catalog_changes(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        genre = await catalog.genre()
        first = await catalog.movie(genres=[genre], popularity=2.0)
        before = await discover(client, api_key, with_genres=genre.id)
        # A change the cache is not told of: the repeat is the stored answer.
        await db.execute(update(Movie).where(col(Movie.id) == first.id).values(popularity=9.0))
        assert await discover(client, api_key, with_genres=genre.id) == before
        second = await catalog.movie(genres=[genre], popularity=5.0)  # bumps CATALOG
        after = await discover(client, api_key, with_genres=genre.id)
        assert [m["id"] for m in after["results"]] == [first.id, second.id]
        assert after["results"][0]["popularity"] == 9
