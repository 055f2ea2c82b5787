"""`/3/discover/movie`'s filters (TMDB_V3.md 4.5) as SQL clauses over the catalog, built with
the native filter machinery (api.movies.queries.filter_clauses of MovieFilters). In every id
list `,` is AND and `|` is OR (`a,b|c`: a, and b or c); a filter Marquee cannot apply is
refused with TMDB's 422 (code 5) naming it, never ignored."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import and_, exists, false, not_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from api.movies.models import Movie, MovieCountry
from api.movies.queries import filter_clauses
from api.tmdb.errors import INVALID_DATE, INVALID_PARAMS, TmdbError, TmdbStatus
from indexer.query import MovieFilters

Clauses = list[ColumnElement[bool]]

# Filters that would change the answer but that Marquee has no data for (certifications,
# release types, watch providers, translations).
UNSUPPORTED = (
    "certification", "certification.gte", "certification.lte", "certification_country",
    "with_release_type", "with_watch_providers", "without_watch_providers",
    "with_watch_monetization_types", "with_title_translation", "with_overview_translation",
)  # fmt: skip
MAX_IDS = 100
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_INT = 2**31 - 1

_IDS = "ids: a,b all of them; a|b any of them"
IdList = Annotated[str | None, Query(max_length=2000, description=_IDS)]
Day = Annotated[str | None, Query(description="YYYY-MM-DD, inclusive")]
Year = Annotated[int | None, Query(ge=1, le=9999)]
Score = Annotated[float | None, Query(allow_inf_nan=False)]
Count = Annotated[int | None, Query(ge=0, le=_INT)]


def invalid(name: str, why: str) -> TmdbError:
    """TMDB's 422 (code 5), its message naming the parameter."""
    message = f"{INVALID_PARAMS.message} {name}: {why}"
    return TmdbError(TmdbStatus(INVALID_PARAMS.http, INVALID_PARAMS.code, message))


def refuse_unsupported(request: Request) -> None:
    """422 for a filter Marquee cannot apply: an honest error beats a silently wrong list."""
    for name in UNSUPPORTED:
        if request.query_params.get(name, "").strip():
            raise invalid(name, "not supported: Marquee has no data to apply it")


@dataclass(frozen=True)
class IdFilters:
    with_genres: str | None
    without_genres: str | None
    with_cast: str | None
    with_crew: str | None
    with_people: str | None
    with_keywords: str | None
    without_keywords: str | None
    with_companies: str | None
    without_companies: str | None
    with_origin_country: str | None


@dataclass(frozen=True)
class ValueFilters:
    primary_release_year: int | None
    year: int | None
    primary_release_date_gte: str | None
    primary_release_date_lte: str | None
    release_date_gte: str | None
    release_date_lte: str | None
    vote_average_gte: float | None
    vote_average_lte: float | None
    vote_count_gte: int | None
    vote_count_lte: int | None
    runtime_gte: int | None
    runtime_lte: int | None
    with_original_language: str | None


async def _id_filters(
    with_genres: IdList = None,
    without_genres: IdList = None,
    with_cast: IdList = None,
    with_crew: IdList = None,
    with_people: IdList = None,
    with_keywords: IdList = None,
    without_keywords: IdList = None,
    with_companies: IdList = None,
    without_companies: IdList = None,
    with_origin_country: Annotated[
        str | None, Query(max_length=500, description="ISO 3166-1 production countries")
    ] = None,
) -> IdFilters:
    return IdFilters(
        with_genres, without_genres, with_cast, with_crew, with_people, with_keywords,
        without_keywords, with_companies, without_companies, with_origin_country,
    )  # fmt: skip


async def _value_filters(
    primary_release_year: Year = None,
    year: Year = None,
    primary_release_date_gte: Annotated[Day, Query(alias="primary_release_date.gte")] = None,
    primary_release_date_lte: Annotated[Day, Query(alias="primary_release_date.lte")] = None,
    release_date_gte: Annotated[Day, Query(alias="release_date.gte")] = None,
    release_date_lte: Annotated[Day, Query(alias="release_date.lte")] = None,
    vote_average_gte: Annotated[Score, Query(alias="vote_average.gte")] = None,
    vote_average_lte: Annotated[Score, Query(alias="vote_average.lte")] = None,
    vote_count_gte: Annotated[Count, Query(alias="vote_count.gte")] = None,
    vote_count_lte: Annotated[Count, Query(alias="vote_count.lte")] = None,
    runtime_gte: Annotated[Count, Query(alias="with_runtime.gte", description="minutes")] = None,
    runtime_lte: Annotated[Count, Query(alias="with_runtime.lte", description="minutes")] = None,
    with_original_language: Annotated[
        str | None, Query(max_length=200, description="ISO 639-1; a|b any of them")
    ] = None,
) -> ValueFilters:
    return ValueFilters(
        primary_release_year, year, primary_release_date_gte, primary_release_date_lte,
        release_date_gte, release_date_lte, vote_average_gte, vote_average_lte, vote_count_gte,
        vote_count_lte, runtime_gte, runtime_lte, with_original_language,
    )  # fmt: skip


def id_groups(value: str, name: str) -> list[list[int]]:
    """`a,b|c` -> [[a], [b, c]]: every group must hold, through any one of its ids."""
    groups = [[_id(part, name) for part in term.split("|")] for term in value.split(",")]
    if sum(len(group) for group in groups) > MAX_IDS:
        raise invalid(name, f"at most {MAX_IDS} ids")
    return groups


def _id(text: str, name: str) -> int:
    term = text.strip()
    # ASCII only: str.isdigit() also accepts '²' and other digits int() refuses.
    if not (term.isascii() and term.isdigit() and 0 < int(term) <= _INT):
        raise invalid(name, "expected positive integer ids separated by ',' or '|'")
    return int(term)


# A movie is credited with, or has, one of a group's ids: each group one native "any of" filter.
_ANY_OF: dict[str, Callable[[list[int]], MovieFilters]] = {
    "with_genres": lambda ids: MovieFilters(genres_any=ids),
    "with_cast": lambda ids: MovieFilters(cast_any=ids),
    "with_crew": lambda ids: MovieFilters(crew_any=ids),  # any crew job, directors included
    "with_people": lambda ids: MovieFilters(people_any=ids),  # cast or crew
}


def _none_of(excluded: MovieFilters) -> Clauses:
    """The movie matches none of what `excluded` asks for."""
    clauses = filter_clauses(excluded)
    return [not_(and_(*clauses))] if clauses else []


def _countries(groups: list[list[str]]) -> Clauses:
    def has(codes: list[str]) -> ColumnElement[bool]:
        return exists().where(
            col(MovieCountry.movie_id) == col(Movie.id), col(MovieCountry.iso_3166_1).in_(codes)
        )

    return [has(group) for group in groups]


def _code_groups(value: str, name: str, pattern: re.Pattern[str], upper: bool) -> list[list[str]]:
    """`a,b|c` of ISO codes, as id_groups does for ids."""
    text = value.upper() if upper else value.lower()
    groups = [[part.strip() for part in term.split("|")] for term in text.split(",")]
    if not all(pattern.match(code) for group in groups for code in group):
        raise invalid(name, "expected ISO codes separated by ',' or '|'")
    return groups


def id_clauses(f: IdFilters) -> Clauses:
    clauses: Clauses = []
    for name, any_of in _ANY_OF.items():
        if value := getattr(f, name):
            clauses += [c for ids in id_groups(value, name) for c in filter_clauses(any_of(ids))]
    if f.with_keywords:
        groups = id_groups(f.with_keywords, "with_keywords")
        clauses += filter_clauses(MovieFilters(keyword_groups=groups))
    if f.with_companies:
        groups = id_groups(f.with_companies, "with_companies")
        clauses += filter_clauses(MovieFilters(company_groups=groups))
    if f.with_origin_country:
        codes = _code_groups(f.with_origin_country, "with_origin_country", _COUNTRY, upper=True)
        clauses += _countries(codes)
    return clauses + _exclusions(f)


def _exclusions(f: IdFilters) -> Clauses:
    """`without_*`: movies having any of the ids are left out, however they were separated."""
    clauses: Clauses = []
    if f.without_genres:
        clauses += _none_of(MovieFilters(genres_any=_flat(f.without_genres, "without_genres")))
    if f.without_keywords:
        ids = _flat(f.without_keywords, "without_keywords")
        clauses += _none_of(MovieFilters(keyword_groups=[ids]))
    if f.without_companies:
        ids = _flat(f.without_companies, "without_companies")
        clauses += _none_of(MovieFilters(company_groups=[ids]))
    return clauses


def _flat(value: str, name: str) -> list[int]:
    return [one for group in id_groups(value, name) for one in group]


def day(value: str | None) -> date | None:
    """A `YYYY-MM-DD` bound, or TMDB's 400 (code 23)."""
    if not value:
        return None
    try:
        if _DAY.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise TmdbError(INVALID_DATE)


def value_clauses(f: ValueFilters) -> Clauses:
    # Marquee keeps one release date: the primary and the "any release" bounds both apply to it.
    parts = [
        MovieFilters(year=f.primary_release_year),
        MovieFilters(year=f.year),
        MovieFilters(
            release_date_gte=day(f.primary_release_date_gte),
            release_date_lte=day(f.primary_release_date_lte),
            vote_average_gte=f.vote_average_gte,
            vote_count_gte=f.vote_count_gte,
            runtime_gte=f.runtime_gte,
            runtime_lte=f.runtime_lte,
        ),
        MovieFilters(
            release_date_gte=day(f.release_date_gte),
            release_date_lte=day(f.release_date_lte),
        ),
    ]
    clauses = [c for part in parts for c in filter_clauses(part)]
    if f.vote_average_lte is not None:
        clauses.append(col(Movie.vote_average) <= f.vote_average_lte)
    if f.vote_count_lte is not None:
        clauses.append(col(Movie.vote_count) <= f.vote_count_lte)
    return clauses + _language_clauses(f.with_original_language)


def _language_clauses(value: str | None) -> Clauses:
    if not value:
        return []
    groups = _code_groups(value, "with_original_language", _LANGUAGE, upper=False)
    # A movie has one original language: it must be in every group (`en,fr` matches nothing).
    common = sorted(set.intersection(*(set(group) for group in groups)))
    return filter_clauses(MovieFilters(languages=common)) if common else [false()]


async def discover_clauses(
    request: Request,
    ids: Annotated[IdFilters, Depends(_id_filters)],
    values: Annotated[ValueFilters, Depends(_value_filters)],
) -> Clauses:
    """Every filter of the request as clauses that must all hold."""
    refuse_unsupported(request)
    return id_clauses(ids) + value_clauses(values)


DiscoverClauses = Annotated[Clauses, Depends(discover_clauses)]
