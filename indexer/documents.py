"""The search document: what a movie looks like inside the Meilisearch index."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from indexer.sorting import title_sort_key


@dataclass(frozen=True)
class MovieSource:
    """Everything the index needs about one movie, as read from the database: its public stored
    fields by name (whatever the API's public movie shape holds; each is copied into the
    document, dates also as timestamps), its genres, cast, directors and crew, and the rest of
    what a list item shows: keywords and companies (id, name), production countries
    (ISO 3166-1 code, name) and spoken languages (ISO 639-1 code, name)."""

    fields: Mapping[str, Any]
    genres: list[tuple[int, str]] = field(default_factory=list)
    cast: list[tuple[int, str, str | None]] = field(default_factory=list)
    directors: list[tuple[int, str]] = field(default_factory=list)
    crew: list[tuple[int, str, str]] = field(default_factory=list)  # person id, name, job
    keywords: list[tuple[int, str]] = field(default_factory=list)
    companies: list[tuple[int, str]] = field(default_factory=list)
    countries: list[tuple[str, str]] = field(default_factory=list)
    languages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def id(self) -> int:
        movie_id: int = self.fields["id"]
        return movie_id

    @property
    def release_date(self) -> date | None:
        day: date | None = self.fields.get("release_date")
        return day


# Crew jobs whose holders' names search matches ("Hans Zimmer" finds the films he scored).
SEARCHED_JOBS = frozenset(
    {
        "Director",
        "Screenplay",
        "Writer",
        "Story",
        "Novel",
        "Author",
        "Characters",
        "Original Music Composer",
        "Music",
        "Director of Photography",
    }
)


def date_to_timestamp(day: date) -> int:
    """Seconds since the epoch at UTC midnight of day; negative before 1970."""
    if isinstance(day, datetime):
        raise TypeError("expected a date, not a datetime")
    return calendar.timegm(day.timetuple())


def decade_of(year: int) -> str:
    return f"{year - year % 10}s"


def to_document(src: MovieSource) -> dict[str, Any]:
    """The one definition of a movie's search document: its stored fields as they are (dates
    as Unix timestamps, which filters and sorts compare, with `<name>_iso` beside them;
    moments as UTC ISO strings), and what search adds to them."""
    doc = {name: _stored(value) for name, value in src.fields.items()}
    doc |= {f"{name}_iso": value.isoformat() for name, value in _days(src.fields)}
    day = src.release_date
    return doc | {
        "sort_title": title_sort_key(src.fields["title"]),
        "genres": [name for _, name in src.genres],
        "genre_ids": [genre_id for genre_id, _ in src.genres],
        "cast": [name for _, name, _ in src.cast],
        "cast_ids": [person_id for person_id, _, _ in src.cast],
        "directors": [name for _, name in src.directors],
        "director_ids": [person_id for person_id, _ in src.directors],
        # Every crew member filters (with the directors); the names users search for are the
        # key jobs' (writers, composers...): a whole crew's names would drown the other fields.
        "crew": list(dict.fromkeys(name for _, name, job in src.crew if job in SEARCHED_JOBS)),
        "crew_ids": sorted({pid for pid, _, _ in src.crew} | {pid for pid, _ in src.directors}),
        "keywords": [name for _, name in src.keywords],
        "keyword_ids": [keyword_id for keyword_id, _ in src.keywords],
        "companies": [name for _, name in src.companies],
        "company_ids": [company_id for company_id, _ in src.companies],
        # Shown in results only (neither searched nor filtered), as the API writes them.
        "production_countries": [{"iso_3166_1": c, "name": n} for c, n in src.countries],
        "spoken_languages": [{"iso_639_1": c, "name": n} for c, n in src.languages],
        "release_date_iso": day.isoformat() if day else None,
        "year": day.year if day else None,
        "decade": decade_of(day.year) if day else None,
    }


def _stored(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc_iso(value)
    if isinstance(value, date):
        return date_to_timestamp(value)
    return value


def _days(fields: Mapping[str, Any]) -> list[tuple[str, date]]:
    return [
        (name, value)
        for name, value in fields.items()
        if isinstance(value, date) and not isinstance(value, datetime)
    ]


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be aware UTC")
    return moment.astimezone(UTC).isoformat()
