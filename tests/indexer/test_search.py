"""Search and browse over a small real corpus: typos, prefixes, highlights, filters, sorts."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import date

import pytest
from meilisearch_python_sdk import AsyncClient

from api.search.documents import RETRIEVED
from devstack.servers import free_port
from indexer import (
    MovieFilters,
    SearchPage,
    SortSpec,
    ensure_settings,
    make_client,
    search_movies,
    title_sort_key,
    upsert,
)
from tests.indexer.corpus import DOCUMENTS, SOURCES, matching
from tests.meili_fixtures import drop_indexes, unique_uid

ALL = len(SOURCES)


@pytest.fixture(scope="module")
async def corpus(meili_client: AsyncClient) -> AsyncIterator[tuple[AsyncClient, str]]:
    """Read-only index holding the whole corpus, shared by this module's tests."""
    uid = unique_uid("corpus")
    await ensure_settings(meili_client, uid)
    await upsert(meili_client, uid, DOCUMENTS)
    yield meili_client, uid
    await drop_indexes(meili_client, uid)


async def run(
    corpus: tuple[AsyncClient, str],
    q: str = "",
    filters: MovieFilters | None = None,
    sort: SortSpec | None = None,
    page: int = 1,
    per_page: int = 100,
) -> SearchPage:
    client, uid = corpus
    return await search_movies(client, uid, q, filters, sort, page, per_page, RETRIEVED)


def ids(result: SearchPage) -> list[int]:
    return [hit["id"] for hit in result.hits]


def expected_facets(filters: MovieFilters) -> dict[str, dict[str, int]]:
    movies = matching(filters)
    genres = Counter(name for src in movies for _, name in src.genres)
    languages = Counter(src.fields["original_language"] for src in movies)
    decades = Counter(f"{src.release_date.year // 10 * 10}s" for src in movies if src.release_date)
    return {"genres": dict(genres), "language": dict(languages), "decade": dict(decades)}


class TestTextSearch:
    async def test_typo_finds_title(self, corpus: tuple[AsyncClient, str]) -> None:
        result = await run(corpus, "Intersteller")

        assert ids(result)[0] == 157336

    async def test_prefix_finds_title_while_typing(self, corpus: tuple[AsyncClient, str]) -> None:
        result = await run(corpus, "inter")

        assert ids(result)[0] == 157336
        assert result.hits[0]["highlights"]["title"] == "<mark>Inter</mark>stellar"

    async def test_cast_name_finds_their_movies(self, corpus: tuple[AsyncClient, str]) -> None:
        result = await run(corpus, "tom hanks")

        assert set(ids(result)[:2]) == {13, 858}

    async def test_highlights_only_the_matched_cast_names(
        self, corpus: tuple[AsyncClient, str]
    ) -> None:
        result = await run(corpus, "tom hanks")

        hanks_movies = [hit for hit in result.hits if hit["id"] in {13, 858}]
        for hit in hanks_movies:
            assert hit["highlights"]["cast"] == ["<mark>Tom</mark> <mark>Hanks</mark>"]
            assert hit["highlights"]["title"] == hit["title"]
        assert "Meg Ryan" in hanks_movies[0]["cast"] + hanks_movies[1]["cast"]

    async def test_highlight_marks_part_of_a_name(self, corpus: tuple[AsyncClient, str]) -> None:
        result = await run(corpus, "hardy")

        assert sorted(ids(result)[:2]) == [27205, 76341]
        for hit in result.hits[:2]:
            assert hit["highlights"]["cast"] == ["Tom <mark>Hardy</mark>"]

    async def test_typo_match_highlights_the_title_only(
        self, corpus: tuple[AsyncClient, str]
    ) -> None:
        result = await run(corpus, "hardy")

        assert ids(result)[2:] == [639]
        assert result.hits[2]["highlights"] == {
            "title": "When <mark>Harry</mark> Met Sally...",
            "cast": [],
        }

    async def test_hits_carry_the_rendered_fields_with_highlights(
        self, corpus: tuple[AsyncClient, str]
    ) -> None:
        result = await run(corpus, "matrix")

        hit = result.hits[0]
        document = next(doc for doc in DOCUMENTS if doc["id"] == 603)
        rendered = {key: document[key] for key in [*RETRIEVED, "cast"]}
        assert {key: value for key, value in hit.items() if key != "highlights"} == rendered
        assert hit["highlights"] == {"title": "The <mark>Matrix</mark>", "cast": []}

    async def test_director_and_genre_are_searchable(self, corpus: tuple[AsyncClient, str]) -> None:
        by_director = await run(corpus, "miyazaki")
        by_genre = await run(corpus, "animation")

        assert sorted(ids(by_director)) == [129, 4935]
        assert sorted(ids(by_genre)) == [129, 4935]

    async def test_original_title_is_searchable(self, corpus: tuple[AsyncClient, str]) -> None:
        result = await run(corpus, "Poulain")

        assert ids(result) == [194]

    async def test_title_match_ranks_above_overview_and_cast(
        self, corpus: tuple[AsyncClient, str]
    ) -> None:
        result = await run(corpus, "blade runner")

        assert ids(result)[:2] == [78, 335984]

    async def test_query_combines_with_filters(self, corpus: tuple[AsyncClient, str]) -> None:
        result = await run(corpus, "blade runner", MovieFilters(year=2017))

        assert ids(result) == [335984]
        assert result.total == 1
        assert result.facets == {
            "genres": {"Drama": 1, "Science Fiction": 1},
            "language": {"en": 1},
            "decade": {"2010s": 1},
        }

    async def test_no_match_is_an_empty_page(self, corpus: tuple[AsyncClient, str]) -> None:
        result = await run(corpus, "zzzzqqqq")

        assert result == SearchPage(0, [], {"genres": {}, "language": {}, "decade": {}})


class TestBrowse:
    async def test_empty_query_lists_everything_with_facets(
        self, corpus: tuple[AsyncClient, str]
    ) -> None:
        result = await run(corpus)

        assert result.total == ALL
        assert sorted(ids(result)) == sorted(src.id for src in SOURCES)
        assert result.facets == expected_facets(MovieFilters())
        assert result.facets["language"] == {"en": 23, "es": 2, "fr": 2, "ja": 3, "ko": 1}
        assert result.facets["decade"]["1930s"] == 1
        assert all(hit["highlights"]["cast"] == [] for hit in result.hits)

    async def test_pages_are_exact_and_disjoint(self, corpus: tuple[AsyncClient, str]) -> None:
        sort = SortSpec("vote_average", descending=True)
        pages = [await run(corpus, sort=sort, page=n, per_page=7) for n in (1, 2, 3, 4, 5)]

        seen = [movie_id for page in pages for movie_id in ids(page)]
        assert [page.total for page in pages] == [ALL] * 5
        assert len(seen) == len(set(seen)) == ALL
        assert [len(page.hits) for page in pages] == [7, 7, 7, 7, 3]

    async def test_page_past_the_end_is_empty_with_the_total(
        self, corpus: tuple[AsyncClient, str]
    ) -> None:
        result = await run(corpus, page=9, per_page=20)

        assert result.hits == []
        assert result.total == ALL


FILTER_CASES = {
    "genres_all": MovieFilters(genres_all=[878, 12]),
    "genres_any": MovieFilters(genres_any=[16, 10402]),
    "languages": MovieFilters(languages=["ja", "ko"]),
    "year": MovieFilters(year=1994),
    "release_date_gte": MovieFilters(release_date_gte=date(2014, 5, 27)),
    "release_date_lte_pre_1970": MovieFilters(release_date_lte=date(1953, 8, 27)),
    "release_date_range_pre_1970": MovieFilters(
        release_date_gte=date(1942, 11, 26), release_date_lte=date(1965, 3, 2)
    ),
    "vote_average_gte": MovieFilters(vote_average_gte=8.4),
    "vote_count_gte": MovieFilters(vote_count_gte=20000),
    "cast_all": MovieFilters(cast_all=[9, 10]),
    "cast_any": MovieFilters(cast_any=[9, 11]),
    "combined": MovieFilters(
        genres_any=[18, 35],
        languages=["en"],
        release_date_gte=date(1980, 1, 1),
        vote_count_gte=3000,
    ),
    "crew_directors_included": MovieFilters(crew_all=[101]),
    "crew_all": MovieFilters(crew_all=[101, 202]),
    "crew_any": MovieFilters(crew_any=[203, 201]),
    "crew_is_not_cast": MovieFilters(crew_all=[102]),
    "people_cast_or_crew": MovieFilters(people_all=[102]),
    "people_all": MovieFilters(people_all=[102, 10]),
    "people_any": MovieFilters(people_any=[201, 9]),
    "keywords_all": MovieFilters(keyword_groups=[[4565], [310]]),
    "keywords_any": MovieFilters(keyword_groups=[[9882, 4379]]),
    "company": MovieFilters(company_groups=[[174]]),
    "companies_all": MovieFilters(company_groups=[[174], [923]]),
    "runtime_gte": MovieFilters(runtime_gte=150),
    "runtime_lte": MovieFilters(runtime_lte=113),
    "runtime_range": MovieFilters(runtime_gte=113, runtime_lte=119),
    "runtime_gte_above_lte": MovieFilters(runtime_gte=130, runtime_lte=120),
    "new_combined": MovieFilters(
        people_any=[201, 203], company_groups=[[174, 10342]], runtime_lte=160
    ),
}
EXPECTED_IDS = {
    "genres_all": [62, 329, 27205, 76341, 157336],
    "genres_any": [129, 4935, 15121, 313369],
    "languages": [129, 346, 4935, 496243],
    "year": [13, 101],
    "release_date_gte": [157336, 137113, 76341, 313369, 335984, 496243],
    "release_date_lte_pre_1970": [289, 630, 804],
    "release_date_range_pre_1970": [289, 346, 804, 15121],
    "crew_directors_included": [77, 155, 27205, 157336, 999001],
    "crew_all": [77, 155, 157336],
    "crew_any": [129, 155, 4935, 157336, 335984],
    "crew_is_not_cast": [639],
    "people_cast_or_crew": [639, 858],
    "people_all": [639, 858],
    "people_any": [13, 155, 858, 157336, 335984],
    "keywords_all": [78, 603, 335984],
    "keywords_any": [62, 137113, 157336],
    "company": [78, 155, 603, 76341, 137113, 157336, 335984],
    "companies_all": [155, 157336],
    "runtime_gte": [155, 238, 346, 157336, 335984],
    "runtime_lte": [77, 289, 630, 137113],
    "runtime_range": [77, 78, 4935, 137113],
    "runtime_gte_above_lte": [],
    "new_combined": [129, 155, 4935],
}


class TestFilters:
    @pytest.mark.parametrize("case", list(FILTER_CASES))
    async def test_total_hits_and_facets_match_the_reference(
        self, corpus: tuple[AsyncClient, str], case: str
    ) -> None:
        filters = FILTER_CASES[case]

        result = await run(corpus, filters=filters)

        expected = sorted(src.id for src in matching(filters))
        assert sorted(ids(result)) == expected
        assert result.total == len(expected)
        assert result.facets == expected_facets(filters)
        if case in EXPECTED_IDS:
            assert expected == sorted(EXPECTED_IDS[case])

    async def test_impossible_filter_returns_empty_page_without_asking_meilisearch(self) -> None:
        offline = make_client(f"http://127.0.0.1:{free_port()}", "key", timeout=1.0)

        result = await search_movies(offline, "any", "", MovieFilters(impossible=True), None, 1, 20)

        assert result == SearchPage(0, [], {"genres": {}, "language": {}, "decade": {}})
        await offline.aclose()

    async def test_match_nothing_expression_matches_nothing(
        self, corpus: tuple[AsyncClient, str]
    ) -> None:
        client, uid = corpus

        results = await client.index(uid).search("", filter=["id NOT EXISTS"])

        assert results.hits == []


def reference_order(sort: SortSpec) -> list[int]:
    """Sorted by the field (missing values last), ties by id in the same direction."""

    def key(src):  # type: ignore[no-untyped-def]
        value = src.fields[sort.field]
        return title_sort_key(value) if isinstance(value, str) else value

    present = [src for src in SOURCES if key(src) is not None]
    missing = [src.id for src in SOURCES if key(src) is None]
    groups: dict[object, list[int]] = {}
    for src in sorted(present, key=key, reverse=sort.descending):
        groups.setdefault(key(src), []).append(src.id)
    groups[None] = missing
    return [
        movie_id for group in groups.values() for movie_id in sorted(group, reverse=sort.descending)
    ]


class TestSort:
    @pytest.mark.parametrize(
        "field",
        ["popularity", "vote_average", "release_date", "title", "vote_count", "revenue", "runtime"],
    )
    @pytest.mark.parametrize("descending", [True, False])
    async def test_browse_order_breaks_ties_by_id(
        self, corpus: tuple[AsyncClient, str], field: str, descending: bool
    ) -> None:
        sort = SortSpec(field, descending)  # type: ignore[arg-type]

        result = await run(corpus, sort=sort)

        assert ids(result) == reference_order(sort)

    @pytest.mark.parametrize("field", ["revenue", "runtime"])
    @pytest.mark.parametrize("descending", [True, False])
    async def test_pages_through_ties_and_missing_values_follow_the_order(
        self, corpus: tuple[AsyncClient, str], field: str, descending: bool
    ) -> None:
        sort = SortSpec(field, descending)  # type: ignore[arg-type]

        pages = [await run(corpus, sort=sort, page=n, per_page=4) for n in range(1, 10)]

        assert [movie_id for page in pages for movie_id in ids(page)] == reference_order(sort)

    async def test_missing_values_come_last_both_ways(
        self, corpus: tuple[AsyncClient, str]
    ) -> None:
        undated = {999001}
        no_revenue = {src.id for src in SOURCES if src.fields["revenue"] is None}
        for field, missing in (("runtime", undated), ("revenue", no_revenue)):
            for descending in (True, False):
                found = ids(await run(corpus, sort=SortSpec(field, descending)))  # type: ignore[arg-type]
                assert set(found[-len(missing) :]) == missing, (field, descending)

    async def test_sort_applies_within_a_filter(self, corpus: tuple[AsyncClient, str]) -> None:
        sort = SortSpec("release_date", descending=False)

        result = await run(corpus, filters=MovieFilters(cast_any=[34, 36]), sort=sort)

        assert ids(result) == [78, 313369, 335984]

    async def test_runtime_sort_within_a_keyword_filter(
        self, corpus: tuple[AsyncClient, str]
    ) -> None:
        sort = SortSpec("runtime", descending=True)

        result = await run(corpus, filters=MovieFilters(keyword_groups=[[4565]]), sort=sort)

        # 164, 136, 120, 117 minutes
        assert ids(result) == [335984, 603, 76341, 78]

    async def test_relevance_ranks_title_first_then_ties_by_popularity(
        self, corpus: tuple[AsyncClient, str]
    ) -> None:
        result = await run(corpus, "nolan")

        # The one title match first; the director matches tie, so popularity orders them.
        assert ids(result) == [999001, 157336, 155, 27205, 77]
