"""Typed movie filters and sorts, and the one place that turns them into Meilisearch syntax."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, get_args

from indexer.documents import date_to_timestamp

SortField = Literal[
    "popularity", "vote_average", "release_date", "title", "vote_count", "revenue", "runtime"
]
SORT_FIELDS: frozenset[str] = frozenset(get_args(SortField))
# A title sort orders by the folded title, exactly as the database does.
SORT_ATTRIBUTE: dict[str, str] = {"title": "sort_title"}
LANGUAGE = re.compile(r"[a-z]{2}")
# Matches no document: every document has its primary key.
MATCH_NOTHING = "id NOT EXISTS"


@dataclass
class MovieFilters:
    """What the user asked to narrow movies by, already parsed into typed values."""

    genres_all: list[int] = field(default_factory=list)
    genres_any: list[int] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    year: int | None = None
    release_date_gte: date | None = None
    release_date_lte: date | None = None
    vote_average_gte: float | None = None
    vote_count_gte: int | None = None
    cast_all: list[int] = field(default_factory=list)
    cast_any: list[int] = field(default_factory=list)
    # Crew: any crew job, directors included.
    crew_all: list[int] = field(default_factory=list)
    crew_any: list[int] = field(default_factory=list)
    # People: credited in the cast or in the crew.
    people_all: list[int] = field(default_factory=list)
    people_any: list[int] = field(default_factory=list)
    # A name may stand for several ids (TMDB has distinct companies of one name): a movie
    # passes when it has, for every group, one of the group's ids ("a|b" is a single group).
    keyword_groups: list[list[int]] = field(default_factory=list)
    company_groups: list[list[int]] = field(default_factory=list)
    runtime_gte: int | None = None
    runtime_lte: int | None = None
    # Set when the user named something that does not exist (an unknown genre): nothing matches.
    impossible: bool = False


@dataclass
class SortSpec:
    field: SortField
    descending: bool


def build_filter(f: MovieFilters) -> list[str]:
    """Meilisearch filter expressions (all must hold); raises ValueError on an untyped value."""
    if f.impossible:
        return [MATCH_NOTHING]
    return [
        *_all_of("genre_ids", f.genres_all),
        *_any_of("genre_ids", [str(_int(value)) for value in f.genres_any]),
        *_any_of("original_language", [f'"{_language(code)}"' for code in f.languages]),
        *_compare("year", "=", None if f.year is None else _int(f.year)),
        *_compare("release_date", ">=", _timestamp(f.release_date_gte)),
        *_compare("release_date", "<=", _timestamp(f.release_date_lte)),
        *_compare("vote_average", ">=", _float(f.vote_average_gte)),
        *_compare("vote_count", ">=", None if f.vote_count_gte is None else _int(f.vote_count_gte)),
        *_all_of("cast_ids", f.cast_all),
        *_any_of("cast_ids", [str(_int(value)) for value in f.cast_any]),
        *_all_of("crew_ids", f.crew_all),
        *_any_of("crew_ids", [str(_int(value)) for value in f.crew_any]),
        *[_cast_or_crew([person_id]) for person_id in f.people_all],
        *([_cast_or_crew(f.people_any)] if f.people_any else []),
        *[_one_of("keyword_ids", group) for group in f.keyword_groups],
        *[_one_of("company_ids", group) for group in f.company_groups],
        *_compare("runtime", ">=", None if f.runtime_gte is None else _int(f.runtime_gte)),
        *_compare("runtime", "<=", None if f.runtime_lte is None else _int(f.runtime_lte)),
    ]


def build_sort(s: SortSpec | None) -> list[str]:
    """Meilisearch sort expressions; none means relevance (ranking rules end with id:asc).

    Ties break by id in the sort's own direction, as the database does: one index serves both."""
    if s is None:
        return []
    if s.field not in SORT_FIELDS or not isinstance(s.descending, bool):
        raise ValueError(f"unknown sort {s!r}")
    direction = "desc" if s.descending else "asc"
    return [f"{SORT_ATTRIBUTE.get(s.field, s.field)}:{direction}", f"id:{direction}"]


def ids_filter(movie_ids: Sequence[int]) -> str:
    """The documents with one of these ids."""
    return _one_of("id", list(movie_ids))


def _all_of(attribute: str, ids: list[int]) -> list[str]:
    return [f"{attribute} = {_int(value)}" for value in ids]


def _any_of(attribute: str, literals: list[str]) -> list[str]:
    return [f"{attribute} IN [{', '.join(literals)}]"] if literals else []


def _one_of(attribute: str, ids: list[int]) -> str:
    # Any of no id at all is nothing (the parser never builds one; a caller might).
    if not ids:
        return MATCH_NOTHING
    return f"{attribute} IN [{', '.join(str(_int(value)) for value in ids)}]"


def _cast_or_crew(person_ids: list[int]) -> str:
    return f"({_one_of('cast_ids', person_ids)} OR {_one_of('crew_ids', person_ids)})"


def _compare(attribute: str, operator: str, value: int | float | None) -> list[str]:
    return [] if value is None else [f"{attribute} {operator} {value!r}"]


def _int(value: object) -> int:
    # bool is an int subclass; True must not mean genre 1.
    if type(value) is not int:
        raise ValueError(f"expected an int, got {value!r}")
    return value


def _float(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _language(code: object) -> str:
    if not isinstance(code, str) or not LANGUAGE.fullmatch(code):
        raise ValueError(f"expected an ISO 639-1 code, got {code!r}")
    return code


def _timestamp(day: object) -> int | None:
    if day is None:
        return None
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"expected a date, got {day!r}")
    return date_to_timestamp(day)
