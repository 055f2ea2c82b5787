"""/movies/filter (Meilisearch) answers exactly what /movies (the database) answers."""

from typing import Any

import pytest
from httpx import AsyncClient

from api.movies.schemas import MovieListItem
from api.search.documents import RETRIEVED, list_item
from api.search.schemas import FilterPage, SearchPage
from indexer import to_document
from tests.indexer.corpus import SOURCES

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
# TMDB ids: Christopher Nolan 525, Hans Zimmer 947, Steven Spielberg 488, John Williams 491,
# Tom Hanks 31, Clint Eastwood 190 (acts and directs), Robert Downey Jr. 3223; keyword 4379 is
# "time travel"; companies 3 Pixar, 10342 Studio Ghibli, and "Heyday films" (437) with
# "Heyday Films" (7364), namesakes but for case.
NEW_FILTERS: list[dict[str, str]] = [
    {"crew": "525"},
    {"crew": "525,947"},
    {"crew": "488|491"},
    {"people": "190"},
    {"people": "31,488"},
    {"people": "31|3223|525"},
    {"keyword": "time travel"},
    {"keyword": "Dystopia,4379"},
    {"keyword": "superhero|TIME TRAVEL"},
    {"keyword": "woman director"},
    {"keyword": "no such keyword|4379"},
    {"company": "heyday films"},
    {"company": "Warner Bros.,Legendary Pictures"},
    {"company": "3|10342"},
    {"runtime.gte": "150"},
    {"runtime.lte": "80"},
    {"runtime.gte": "90", "runtime.lte": "95"},
    {"runtime.gte": "0"},
    {"runtime.gte": "200", "runtime.lte": "100"},
    {"crew": "947", "keyword": "based on novel|superhero", "runtime.gte": "120"},
    {"people": "31", "company": "Paramount Pictures|DreamWorks SKG", "genre": "Drama"},
]
FILTERS += NEW_FILTERS
SORTS = [
    "popularity.desc", "popularity.asc", "vote_average.desc", "rating.asc", "release_date.desc",
    "release_date.asc", "title.asc", "title.desc", "vote_count.desc", "vote_count.asc",
    "revenue.desc", "revenue.asc", "runtime.desc", "runtime.asc",
]  # fmt: skip
NEW_SORTS = ["revenue.desc", "revenue.asc", "runtime.desc", "runtime.asc"]
# The three ways to list movies: the database, the index browsed, the index searched for "".
ENDPOINTS = ["/movies/", "/movies/filter/", "/movies/search/"]
# What list items show of a movie's TMDB record beside its genres.
RECORD_LISTS = ("keywords", "production_companies", "production_countries", "spoken_languages")


def label(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items()) or "none"


async def ids_and_total(
    client: AsyncClient, path: str, params: dict[str, Any]
) -> tuple[list[int], int]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [r["id"] for r in body["results"]], body["total_results"]


class TestFilterParity:
    @pytest.mark.parametrize("filters", FILTERS, ids=label)
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

    @pytest.mark.parametrize("sort_by", NEW_SORTS)
    async def test_new_sorts_match_the_database_on_every_page(
        self, tmdb_client: AsyncClient, sort_by: str
    ) -> None:
        """Every page, through the ties and the movies without a value (last both ways)."""
        page, last = 1, 1
        while page <= last:
            params = {"sort_by": sort_by, "per_page": 100, "page": page}
            answers = [await ids_and_total(tmdb_client, path, params) for path in ENDPOINTS]
            assert answers[1] == answers[0] and answers[2] == answers[0], f"page {page}"
            last = -(-answers[0][1] // 100)
            page += 1
        assert last > 1

    @pytest.mark.parametrize("filters", NEW_FILTERS, ids=label)
    @pytest.mark.parametrize("sort_by", ["runtime.asc", "revenue.desc", "title.asc"])
    async def test_new_filters_match_the_database_across_pages(
        self, tmdb_client: AsyncClient, filters: dict[str, str], sort_by: str
    ) -> None:
        for page in (1, 2, 3):
            params = {**filters, "sort_by": sort_by, "per_page": 20, "page": page}
            answers = [await ids_and_total(tmdb_client, path, params) for path in ENDPOINTS]
            assert answers[1] == answers[0] and answers[2] == answers[0], f"page {page}"


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

    @pytest.mark.parametrize(
        "filters",
        [{"keyword": "time travel"}, {"company": "3|10342"}, {"people": "31"}, {"language": "fr"}],
        ids=label,
    )
    async def test_record_lists_are_the_database_lists(
        self, tmdb_client: AsyncClient, filters: dict[str, str]
    ) -> None:
        params = {**filters, "sort_by": "popularity.desc", "per_page": 100}
        pages = [(await tmdb_client.get(path, params=params)).json() for path in ENDPOINTS]
        db, *from_index = [[_record(item) for item in page["results"]] for page in pages]
        assert from_index == [db, db]
        for name in RECORD_LISTS:  # the comparison is not of empty lists only
            assert any(item[name] for item in db), name

    async def test_record_lists_are_the_details_lists(self, tmdb_client: AsyncClient) -> None:
        params = {"keyword": "time travel", "per_page": 5}
        page = (await tmdb_client.get("/movies/filter/", params=params)).json()
        for item in page["results"]:
            details = (await tmdb_client.get(f"/movies/{item['id']}")).json()
            assert _record(item) == _record(details), item["id"]

    async def test_filter_pages_are_the_models_json(self, tmdb_client: AsyncClient) -> None:
        for params in ({"per_page": 100}, {"genre": "Animation", "sort_by": "release_date.asc"}):
            response = await tmdb_client.get("/movies/filter/", params=params)
            assert response.status_code == 200, response.text
            again = FilterPage.model_validate_json(response.content).model_dump_json()
            assert again.encode() == response.content


def _record(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], **{name: item[name] for name in RECORD_LISTS}}


class TestOlderIndex:
    """Documents indexed by an older version, before `marquee reindex`, lack the record's
    lists: results still render, with those lists empty."""

    def test_document_without_the_record_lists_reads_them_as_empty(self) -> None:
        doc = to_document(SOURCES[0])
        newer = {"production_countries", "spoken_languages", "keywords", "keyword_ids"}
        newer |= {"companies", "company_ids"}
        old = {name: value for name, value in doc.items() if name not in newer}

        item = MovieListItem.model_validate(list_item(old, "https://img.example/"))

        assert all(getattr(item, name) == [] for name in RECORD_LISTS)

    def test_results_ask_the_index_for_the_record_lists(self) -> None:
        wanted = {"keyword_ids", "keywords", "company_ids", "companies"}
        assert wanted | {"production_countries", "spoken_languages"} <= set(RETRIEVED)
        assert not {"crew", "crew_ids", "cast_ids", "directors"} & set(RETRIEVED)


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


class TestNewFiltersOnTheIndex:
    async def test_unknown_keyword_or_company_answers_an_empty_page(
        self, tmdb_client: AsyncClient
    ) -> None:
        for params in ({"keyword": "no such keyword"}, {"company": "Pixar Animation Studios,nope"}):
            for path in ENDPOINTS:
                assert await ids_and_total(tmdb_client, path, params) == ([], 0), (path, params)

    async def test_a_company_name_matches_its_namesakes(self, tmdb_client: AsyncClient) -> None:
        for path in ENDPOINTS:
            by_name = await ids_and_total(tmdb_client, path, {"company": "HEYDAY FILMS"})
            by_ids = await ids_and_total(tmdb_client, path, {"company": "437|7364"})
            assert by_name == by_ids, path

    @pytest.mark.parametrize(
        "params",
        [
            {"crew": "abc"},
            {"people": "1,2|3"},
            {"keyword": ","},
            {"company": "x" * 2001},
            {"runtime.gte": "-1"},
            {"runtime.lte": "1501"},
            {"sort_by": "revenue"},
        ],
        ids=label,
    )
    @pytest.mark.parametrize("path", ENDPOINTS[1:])
    async def test_bad_values_return_422_envelope(
        self, tmdb_client: AsyncClient, path: str, params: dict[str, str]
    ) -> None:
        response = await tmdb_client.get(path, params=params)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_error"
