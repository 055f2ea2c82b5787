"""Filter and sort expressions built from typed values only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from indexer import MovieFilters, SortSpec, build_filter, build_sort


class TestBuildFilter:
    def test_no_filters_give_no_expressions(self) -> None:
        assert build_filter(MovieFilters()) == []

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            (MovieFilters(genres_all=[28, 878]), ["genre_ids = 28", "genre_ids = 878"]),
            (MovieFilters(genres_any=[28, 878]), ["genre_ids IN [28, 878]"]),
            (MovieFilters(languages=["en", "fr"]), ['original_language IN ["en", "fr"]']),
            (MovieFilters(year=1994), ["year = 1994"]),
            (MovieFilters(release_date_gte=date(2000, 1, 1)), ["release_date >= 946684800"]),
            (MovieFilters(release_date_lte=date(1960, 1, 1)), ["release_date <= -315619200"]),
            (MovieFilters(vote_average_gte=8), ["vote_average >= 8.0"]),
            (MovieFilters(vote_average_gte=7.5), ["vote_average >= 7.5"]),
            (MovieFilters(vote_count_gte=1000), ["vote_count >= 1000"]),
            (MovieFilters(cast_all=[9, 10]), ["cast_ids = 9", "cast_ids = 10"]),
            (MovieFilters(cast_any=[9, 11]), ["cast_ids IN [9, 11]"]),
            (MovieFilters(crew_all=[101, 102]), ["crew_ids = 101", "crew_ids = 102"]),
            (MovieFilters(crew_any=[101, 102]), ["crew_ids IN [101, 102]"]),
            (
                MovieFilters(people_all=[9, 101]),
                [
                    "(cast_ids IN [9] OR crew_ids IN [9])",
                    "(cast_ids IN [101] OR crew_ids IN [101])",
                ],
            ),
            (
                MovieFilters(people_any=[9, 101]),
                ["(cast_ids IN [9, 101] OR crew_ids IN [9, 101])"],
            ),
            (
                MovieFilters(keyword_groups=[[4379], [9951, 9952]]),
                ["keyword_ids IN [4379]", "keyword_ids IN [9951, 9952]"],
            ),
            (MovieFilters(company_groups=[[420, 7364]]), ["company_ids IN [420, 7364]"]),
            (MovieFilters(runtime_gte=90), ["runtime >= 90"]),
            (MovieFilters(runtime_lte=0), ["runtime <= 0"]),
            (MovieFilters(runtime_gte=100, runtime_lte=90), ["runtime >= 100", "runtime <= 90"]),
        ],
    )
    def test_each_filter(self, filters: MovieFilters, expected: list[str]) -> None:
        assert build_filter(filters) == expected

    def test_filters_combine_as_a_conjunction(self) -> None:
        filters = MovieFilters(
            genres_all=[18], genres_any=[35, 10749], languages=["en"], vote_count_gte=100
        )

        assert build_filter(filters) == [
            "genre_ids = 18",
            "genre_ids IN [35, 10749]",
            'original_language IN ["en"]',
            "vote_count >= 100",
        ]

    def test_impossible_matches_nothing(self) -> None:
        assert build_filter(MovieFilters(genres_all=[18], impossible=True)) == ["id NOT EXISTS"]

    def test_an_empty_group_matches_nothing(self) -> None:
        assert build_filter(MovieFilters(keyword_groups=[[1], []])) == [
            "keyword_ids IN [1]",
            "id NOT EXISTS",
        ]

    def test_new_filters_combine_with_the_others(self) -> None:
        filters = MovieFilters(
            cast_any=[9], crew_all=[101], people_any=[10], company_groups=[[1]], runtime_gte=90
        )

        assert build_filter(filters) == [
            "cast_ids IN [9]",
            "crew_ids = 101",
            "(cast_ids IN [10] OR crew_ids IN [10])",
            "company_ids IN [1]",
            "runtime >= 90",
        ]

    @pytest.mark.parametrize(
        "filters",
        [
            MovieFilters(genres_all=["18"]),  # type: ignore[list-item]
            MovieFilters(genres_any=["18 OR id > 0"]),  # type: ignore[list-item]
            MovieFilters(genres_any=[True]),
            MovieFilters(cast_all=[1.5]),  # type: ignore[list-item]
            MovieFilters(cast_any=[None]),  # type: ignore[list-item]
            MovieFilters(languages=["EN"]),
            MovieFilters(languages=["eng"]),
            MovieFilters(languages=['en"] OR id > 0 OR x IN ["']),
            MovieFilters(languages=[1]),  # type: ignore[list-item]
            MovieFilters(year="1994"),  # type: ignore[arg-type]
            MovieFilters(year=False),
            MovieFilters(release_date_gte="2000-01-01"),  # type: ignore[arg-type]
            MovieFilters(release_date_lte=datetime(2000, 1, 1, tzinfo=UTC)),
            MovieFilters(vote_average_gte=float("nan")),
            MovieFilters(vote_average_gte=float("inf")),
            MovieFilters(vote_average_gte="8"),  # type: ignore[arg-type]
            MovieFilters(vote_count_gte=10.5),  # type: ignore[arg-type]
            MovieFilters(crew_all=["101"]),  # type: ignore[list-item]
            MovieFilters(crew_any=[True]),
            MovieFilters(people_all=["9] OR id > 0 OR x IN ["]),  # type: ignore[list-item]
            MovieFilters(people_any=[9.0]),  # type: ignore[list-item]
            MovieFilters(keyword_groups=[["4379"]]),  # type: ignore[list-item]
            MovieFilters(keyword_groups=[[None]]),  # type: ignore[list-item]
            MovieFilters(company_groups=[[False]]),
            MovieFilters(runtime_gte="90"),  # type: ignore[arg-type]
            MovieFilters(runtime_lte=90.5),  # type: ignore[arg-type]
            MovieFilters(runtime_lte=True),
        ],
    )
    def test_untyped_value_is_rejected(self, filters: MovieFilters) -> None:
        with pytest.raises(ValueError):
            build_filter(filters)


class TestBuildSort:
    def test_none_means_relevance(self) -> None:
        assert build_sort(None) == []

    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            (SortSpec("popularity", True), ["popularity:desc", "id:desc"]),
            (SortSpec("vote_average", False), ["vote_average:asc", "id:asc"]),
            (SortSpec("release_date", True), ["release_date:desc", "id:desc"]),
            (SortSpec("title", False), ["sort_title:asc", "id:asc"]),
            (SortSpec("vote_count", True), ["vote_count:desc", "id:desc"]),
            (SortSpec("revenue", True), ["revenue:desc", "id:desc"]),
            (SortSpec("revenue", False), ["revenue:asc", "id:asc"]),
            (SortSpec("runtime", True), ["runtime:desc", "id:desc"]),
            (SortSpec("runtime", False), ["runtime:asc", "id:asc"]),
        ],
    )
    def test_ties_break_by_id(self, spec: SortSpec, expected: list[str]) -> None:
        assert build_sort(spec) == expected

    @pytest.mark.parametrize(
        ("field", "descending"),
        [("overview", True), ("title:asc,id", True), ("title", "yes"), ("budget", True)],
    )
    def test_unknown_sort_is_rejected(self, field: Any, descending: Any) -> None:
        with pytest.raises(ValueError):
            build_sort(SortSpec(field, descending))
