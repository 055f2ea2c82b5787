"""The search document: what a movie looks like inside the Meilisearch index."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from indexer.sorting import title_sort_key


@dataclass(frozen=True)
class MovieSource:
    """Everything the index needs about one movie, as read from the database."""

    id: int
    title: str
    original_title: str
    overview: str
    tagline: str | None
    release_date: date | None
    original_language: str
    runtime: int | None
    status: str
    poster_path: str | None
    backdrop_path: str | None
    popularity: float
    vote_average: float
    vote_count: int
    genres: list[tuple[int, str]]
    cast: list[tuple[int, str, str | None]]
    directors: list[tuple[int, str]]
    created_at: datetime
    updated_at: datetime


def date_to_timestamp(day: date) -> int:
    """Seconds since the epoch at UTC midnight of day; negative before 1970."""
    if isinstance(day, datetime):
        raise TypeError("expected a date, not a datetime")
    return calendar.timegm(day.timetuple())


def decade_of(year: int) -> str:
    return f"{year - year % 10}s"


def to_document(src: MovieSource) -> dict[str, Any]:
    """The one definition of a movie's search document."""
    day = src.release_date
    return {
        "id": src.id,
        "title": src.title,
        "sort_title": title_sort_key(src.title),
        "original_title": src.original_title,
        "overview": src.overview,
        "tagline": src.tagline,
        "genres": [name for _, name in src.genres],
        "genre_ids": [genre_id for genre_id, _ in src.genres],
        "cast": [name for _, name, _ in src.cast],
        "cast_ids": [person_id for person_id, _, _ in src.cast],
        "directors": [name for _, name in src.directors],
        "director_ids": [person_id for person_id, _ in src.directors],
        "original_language": src.original_language,
        "release_date": date_to_timestamp(day) if day else None,
        "release_date_iso": day.isoformat() if day else None,
        "year": day.year if day else None,
        "decade": decade_of(day.year) if day else None,
        "popularity": src.popularity,
        "vote_average": src.vote_average,
        "vote_count": src.vote_count,
        "poster_path": src.poster_path,
        "backdrop_path": src.backdrop_path,
        "runtime": src.runtime,
        "status": src.status,
        "created_at": _utc_iso(src.created_at),
        "updated_at": _utc_iso(src.updated_at),
    }


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be aware UTC")
    return moment.astimezone(UTC).isoformat()
