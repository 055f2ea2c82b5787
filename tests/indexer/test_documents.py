"""The search document built from a MovieSource."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from indexer import to_document
from indexer.documents import date_to_timestamp
from tests.indexer.corpus import SOURCES, with_fields


def by_id(movie_id: int):  # type: ignore[no-untyped-def]
    return next(src for src in SOURCES if src.id == movie_id)


class TestToDocument:
    def test_maps_every_field(self) -> None:
        doc = to_document(by_id(27205))

        assert doc == {
            "id": 27205,
            "title": "Inception",
            "sort_title": "inception",
            "original_title": "Inception",
            "overview": "Overview of Inception.",
            "tagline": None,
            "genres": ["Action", "Science Fiction", "Adventure"],
            "genre_ids": [28, 878, 12],
            "cast": ["Leonardo DiCaprio", "Joseph Gordon-Levitt", "Elliot Page", "Tom Hardy"],
            "cast_ids": [4, 5, 6, 11],
            "directors": ["Christopher Nolan"],
            "director_ids": [101],
            "crew": [],
            "crew_ids": [101],
            "keywords": [],
            "keyword_ids": [],
            "companies": [],
            "company_ids": [],
            "production_countries": [],
            "spoken_languages": [],
            "original_language": "en",
            "release_date": 1279152000,
            "release_date_iso": "2010-07-15",
            "year": 2010,
            "decade": "2010s",
            "popularity": 110.0,
            "vote_average": 8.4,
            "vote_count": 35000,
            "poster_path": "/27205.jpg",
            "backdrop_path": None,
            "budget": 27205000,
            "revenue": None,
            "homepage": None,
            "runtime": 120,
            "status": "Released",
            "created_at": "2026-01-02T03:04:05+00:00",
            "updated_at": "2026-01-02T03:04:05+00:00",
        }

    def test_record_lists_keep_their_order_names_beside_ids(self) -> None:
        src = replace(
            by_id(27205),
            keywords=[(2, "dream"), (1, "heist")],
            companies=[(923, "Legendary Pictures"), (6194, "Warner Bros.")],
            countries=[("GB", "United Kingdom"), ("US", "United States of America")],
            languages=[("en", "English"), ("ja", "日本語")],
        )

        doc = to_document(src)

        assert (doc["keywords"], doc["keyword_ids"]) == (["dream", "heist"], [2, 1])
        assert doc["companies"] == ["Legendary Pictures", "Warner Bros."]
        assert doc["company_ids"] == [923, 6194]
        assert doc["production_countries"] == [
            {"iso_3166_1": "GB", "name": "United Kingdom"},
            {"iso_3166_1": "US", "name": "United States of America"},
        ]
        assert doc["spoken_languages"] == [
            {"iso_639_1": "en", "name": "English"},
            {"iso_639_1": "ja", "name": "日本語"},
        ]

    def test_sort_title_is_case_and_accent_folded(self) -> None:
        assert to_document(by_id(101))["sort_title"] == "leon: the professional"

    def test_cast_keeps_billing_order(self) -> None:
        src = replace(by_id(13), cast=[(45, "Robin Wright", "Jenny"), (9, "Tom Hanks", "Forrest")])

        doc = to_document(src)

        assert doc["cast"] == ["Robin Wright", "Tom Hanks"]
        assert doc["cast_ids"] == [45, 9]

    def test_pre_1970_date_gives_negative_timestamp(self) -> None:
        doc = to_document(by_id(289))

        assert doc["release_date"] == -855187200
        assert doc["release_date_iso"] == "1942-11-26"
        assert (doc["year"], doc["decade"]) == (1942, "1940s")

    def test_missing_date_gives_nulls(self) -> None:
        doc = to_document(by_id(999001))

        assert doc["release_date"] is None
        assert doc["release_date_iso"] is None
        assert doc["year"] is None
        assert doc["decade"] is None

    @pytest.mark.parametrize(
        ("day", "decade"),
        [(date(1990, 1, 1), "1990s"), (date(1999, 12, 31), "1990s"), (date(2000, 6, 1), "2000s")],
    )
    def test_decade_bounds(self, day: date, decade: str) -> None:
        assert to_document(with_fields(by_id(155), release_date=day))["decade"] == decade

    def test_timestamps_are_rendered_in_utc(self) -> None:
        paris = timezone(timedelta(hours=1))
        src = with_fields(by_id(155), updated_at=datetime(2026, 1, 2, 4, 4, 5, tzinfo=paris))

        assert to_document(src)["updated_at"] == "2026-01-02T03:04:05+00:00"

    def test_naive_timestamp_is_rejected(self) -> None:
        with pytest.raises(ValueError):
            to_document(with_fields(by_id(155), created_at=datetime(2026, 1, 2)))


class TestDateToTimestamp:
    def test_epoch_is_zero(self) -> None:
        assert date_to_timestamp(date(1970, 1, 1)) == 0

    def test_is_utc_midnight(self) -> None:
        stamp = date_to_timestamp(date(1969, 12, 31))

        assert stamp == -86400
        assert datetime.fromtimestamp(stamp, UTC) == datetime(1969, 12, 31, tzinfo=UTC)

    def test_datetime_is_rejected(self) -> None:
        with pytest.raises(TypeError):
            date_to_timestamp(datetime(2000, 1, 1, 12, tzinfo=UTC))
