"""Parsing the list filters and sort_by of API.md into typed values."""

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.errors import Invalid
from api.movies.queries import resolve_companies, resolve_genres, resolve_keywords
from indexer.query import MovieFilters, SortSpec

SortBy = Literal[
    "popularity.desc", "popularity.asc",
    "vote_average.desc", "vote_average.asc",
    "rating.desc", "rating.asc",
    "release_date.desc", "release_date.asc",
    "title.asc", "title.desc",
    "vote_count.desc", "vote_count.asc",
    "revenue.desc", "revenue.asc",
    "runtime.desc", "runtime.asc",
]  # fmt: skip

_LANGUAGE = re.compile(r"^[a-z]{2}$")
_MAX_TERMS = 20
_MAX_RUNTIME = 1500  # minutes, as a movie's runtime may be
# Lower-cased name -> the ids so named, for the names that exist.
Resolver = Callable[[AsyncSession, Sequence[str]], Awaitable[dict[str, list[int]]]]


@dataclass(frozen=True)
class RawFilters:
    genre: str | None
    language: str | None
    year: int | None
    release_date_gte: date | None
    release_date_lte: date | None
    vote_average_gte: float | None
    vote_count_gte: int | None
    cast: str | None
    crew: str | None
    people: str | None
    keyword: str | None
    company: str | None
    runtime_gte: int | None
    runtime_lte: int | None


_PEOPLE_IDS = "person ids; a,b all; a|b any"
_NAMES = "names (case-insensitive) or ids; a,b all; a|b any"
_RUNTIME = "minutes"


async def _raw_filters(
    genre: Annotated[
        str | None, Query(max_length=1000, description="names or ids; a,b all; a|b any")
    ] = None,
    language: Annotated[str | None, Query(max_length=200, description="ISO 639-1; a|b any")] = None,
    year: Annotated[int | None, Query(ge=1800, le=2200)] = None,
    release_date_gte: Annotated[date | None, Query(alias="release_date.gte")] = None,
    release_date_lte: Annotated[date | None, Query(alias="release_date.lte")] = None,
    vote_average_gte: Annotated[float | None, Query(alias="vote_average.gte", ge=0, le=10)] = None,
    vote_count_gte: Annotated[int | None, Query(alias="vote_count.gte", ge=0, le=2**31)] = None,
    cast: Annotated[str | None, Query(max_length=1000, description=_PEOPLE_IDS)] = None,
    crew: Annotated[str | None, Query(max_length=1000, description=_PEOPLE_IDS)] = None,
    people: Annotated[str | None, Query(max_length=1000, description=_PEOPLE_IDS)] = None,
    keyword: Annotated[str | None, Query(max_length=2000, description=_NAMES)] = None,
    company: Annotated[str | None, Query(max_length=2000, description=_NAMES)] = None,
    runtime_gte: Annotated[
        int | None, Query(alias="runtime.gte", ge=0, le=_MAX_RUNTIME, description=_RUNTIME)
    ] = None,
    runtime_lte: Annotated[
        int | None, Query(alias="runtime.lte", ge=0, le=_MAX_RUNTIME, description=_RUNTIME)
    ] = None,
) -> RawFilters:
    return RawFilters(
        genre,
        language,
        year,
        release_date_gte,
        release_date_lte,
        vote_average_gte,
        vote_count_gte,
        cast,
        crew,
        people,
        keyword,
        company,
        runtime_gte,
        runtime_lte,
    )


def split_terms(value: str, name: str) -> tuple[list[str], bool]:
    """'a,b' -> all of them; 'a|b' -> any of them. Returns the terms and whether all must match."""
    if "," in value and "|" in value:
        raise Invalid(
            f"{name}: use either ',' (all of) or '|' (any of), not both", loc=("query", name)
        )
    match_all = "|" not in value
    terms = [term.strip() for term in re.split(r"[,|]", value) if term.strip()]
    if not terms:
        raise Invalid(f"{name}: give at least one value", loc=("query", name))
    if len(terms) > _MAX_TERMS:
        raise Invalid(f"{name}: at most {_MAX_TERMS} values", loc=("query", name))
    return terms, match_all


def _is_id(term: str) -> bool:
    # ASCII only: str.isdigit() also accepts '²' and other digits int() refuses.
    return term.isascii() and term.isdigit() and 0 < int(term) < 2**31


def _ids(terms: list[str], name: str) -> list[int]:
    if not all(_is_id(term) for term in terms):
        raise Invalid(f"{name}: expected positive integer ids", loc=("query", name))
    return [int(term) for term in terms]


async def _genre_ids(
    sessions: async_sessionmaker[AsyncSession], terms: list[str], match_all: bool
) -> list[int] | None:
    """Ids for the named or numbered genres; None when nothing can match (an unknown genre
    among "all of", or only unknown ones among "any of"). Only names need the database."""
    known: dict[str, int] = {}
    if names := [term for term in terms if not _is_id(term)]:
        async with sessions() as session:
            known = await resolve_genres(session, names)
    ids: list[int] = []
    for term in terms:
        gid = int(term) if _is_id(term) else known.get(term.lower())
        if gid is None and match_all:
            return None
        if gid is not None:
            ids.append(gid)
    return ids or None


def _person_ids(value: str, name: str) -> tuple[list[int], list[int]]:
    """(all of, any of) the person ids given."""
    terms, match_all = split_terms(value, name)
    ids = _ids(terms, name)
    return (ids, []) if match_all else ([], ids)


async def _named_groups(
    sessions: async_sessionmaker[AsyncSession], value: str, name: str, resolve: Resolver
) -> list[list[int]] | None:
    """The id groups a movie must each meet for the named or numbered values; None when
    nothing can match (as for genres). A name may stand for several ids."""
    terms, match_all = split_terms(value, name)
    known: dict[str, list[int]] = {}
    if names := [term for term in terms if not _is_id(term)]:
        async with sessions() as session:
            known = await resolve(session, names)
    groups = [[int(term)] if _is_id(term) else known.get(term.lower()) for term in terms]
    found = [group for group in groups if group is not None]
    if match_all:
        return found if len(found) == len(groups) else None
    ids = [one for group in found for one in group]
    return [ids] if ids else None


def _languages(value: str) -> list[str]:
    terms, match_all = split_terms(value.lower(), "language")
    if match_all and len(terms) > 1:
        raise Invalid(
            "language: a movie has one original language; use '|' for any of several",
            loc=("query", "language"),
        )
    if not all(_LANGUAGE.match(term) for term in terms):
        raise Invalid(
            "language: expected ISO 639-1 codes such as 'en' or 'fr'", loc=("query", "language")
        )
    return terms


async def to_movie_filters(
    sessions: async_sessionmaker[AsyncSession], raw: RawFilters
) -> MovieFilters:
    f = MovieFilters(
        year=raw.year,
        release_date_gte=raw.release_date_gte,
        release_date_lte=raw.release_date_lte,
        vote_average_gte=raw.vote_average_gte,
        vote_count_gte=raw.vote_count_gte,
        runtime_gte=raw.runtime_gte,
        runtime_lte=raw.runtime_lte,
    )
    if raw.language:
        f.languages = _languages(raw.language)
    if raw.cast:
        f.cast_all, f.cast_any = _person_ids(raw.cast, "cast")
    if raw.crew:
        f.crew_all, f.crew_any = _person_ids(raw.crew, "crew")
    if raw.people:
        f.people_all, f.people_any = _person_ids(raw.people, "people")
    if raw.keyword:
        keywords = await _named_groups(sessions, raw.keyword, "keyword", resolve_keywords)
        f.keyword_groups = keywords or []
        f.impossible |= keywords is None  # an unknown name matches nothing, as for genres
    if raw.company:
        companies = await _named_groups(sessions, raw.company, "company", resolve_companies)
        f.company_groups = companies or []
        f.impossible |= companies is None
    if raw.genre:
        terms, match_all = split_terms(raw.genre, "genre")
        genre_ids = await _genre_ids(sessions, terms, match_all)
        if genre_ids is None:
            f.impossible = True  # an unknown genre matches nothing: an empty page, not an error
        else:
            f.genres_all, f.genres_any = (genre_ids, []) if match_all else ([], genre_ids)
    return f


def parse_sort(sort_by: str) -> SortSpec:
    field, direction = sort_by.split(".")
    field = "vote_average" if field == "rating" else field
    return SortSpec(field=field, descending=direction == "desc")  # type: ignore[arg-type]


async def _filters(
    request: Request, raw: Annotated[RawFilters, Depends(_raw_filters)]
) -> MovieFilters:
    # No request session: search and filter answers mostly need no database at all.
    return await to_movie_filters(request.app.state.sessionmaker, raw)


FiltersDep = Annotated[MovieFilters, Depends(_filters)]
SortByQuery = Annotated[SortBy | None, Query(description="field.direction; ties break by id")]
