"""The encoding helpers later /3 routes write their answers with (TMDB_V3.md 1.2, 1.3)."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from api.pagination import PageParams
from api.tmdb.encoding import (
    id_list,
    image_path,
    never_null,
    tmdb_date,
    tmdb_datetime,
    tmdb_expiry,
    tmdb_int,
    tmdb_number,
)
from api.tmdb.paging import PAGE_SIZE, TmdbPage, total_pages


class TestValues:
    @pytest.mark.parametrize(("value", "expected"), [(11800.0, 11800), (None, 0), (7, 7)])
    def test_counts_are_integers(self, value: float | None, expected: int) -> None:
        encoded = tmdb_int(value)
        assert encoded == expected and type(encoded) is int

    @pytest.mark.parametrize(("value", "expected"), [(8.0, 8), (7.5, 7.5), (None, 0)])
    def test_whole_numbers_are_written_as_integers(
        self, value: float | None, expected: float
    ) -> None:
        encoded = tmdb_number(value)
        assert encoded == expected
        assert type(encoded) is type(expected)

    def test_dates_are_iso_or_empty(self) -> None:
        assert tmdb_date(date(2009, 12, 10)) == "2009-12-10"
        assert tmdb_date(None) == ""

    def test_timestamps_are_utc_with_milliseconds(self) -> None:
        moment = datetime(2024, 1, 2, 5, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
        assert tmdb_datetime(moment) == "2024-01-02T03:04:05.678Z"
        assert tmdb_expiry(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02 03:04:05 UTC"

    def test_image_paths_start_with_a_slash_and_missing_ones_are_null(self) -> None:
        assert image_path("/abc.jpg") == "/abc.jpg"
        assert image_path("abc.jpg") == "/abc.jpg"
        assert image_path("") is None and image_path(None) is None

    def test_id_lists_are_integers_and_lists_never_null(self) -> None:
        assert id_list([28, None, 12]) == [28, 12]
        assert never_null(None) == []
        assert never_null((1, 2)) == [1, 2]


class TestPages:
    @pytest.mark.parametrize(
        ("total", "pages"), [(0, 1), (1, 1), (20, 1), (21, 2), (100_000, 5000)]
    )
    def test_total_pages_is_at_least_one_and_not_capped(self, total: int, pages: int) -> None:
        assert total_pages(total) == pages

    def test_a_page_carries_extras_such_as_dates(self) -> None:
        params = PageParams(page=2, per_page=PAGE_SIZE)
        dates = {"minimum": "2024-01-01", "maximum": "2024-02-01"}
        page = TmdbPage[int].build(params, 25, [21, 22], dates=dates)
        assert page.model_dump() == {
            "page": 2,
            "results": [21, 22],
            "total_pages": 2,
            "total_results": 25,
            "dates": dates,
        }
