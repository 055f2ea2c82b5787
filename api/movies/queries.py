"""Catalog reads, shared by the API and the worker."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, func, select, union_all
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from api.movies.models import (
    CastCredit,
    Company,
    CrewCredit,
    Genre,
    Keyword,
    Movie,
    MovieCompany,
    MovieCountry,
    MovieDirector,
    MovieGenre,
    MovieKeyword,
    MovieLanguage,
)
from api.movies.schemas import MovieListItem
from api.pagination import PageParams
from api.people.models import Person
from indexer.query import MovieFilters, SortSpec

# A movie's public fields that its row stores: those of its public shape (MovieListItem) that
# are columns. What the API answers and the search documents hold of the row.
_MOVIE = sa_inspect(Movie).local_table
PUBLIC_FIELDS = [name for name in MovieListItem.model_fields if name in _MOVIE.c]
PUBLIC_COLUMNS = [_MOVIE.c[name] for name in PUBLIC_FIELDS]
# Billing order, ties by credit: the same for the ORM relationship and the plain reads.
CAST_ORDER = [col(CastCredit.billing_order), col(CastCredit.id)]

_SORT_COLUMNS: dict[str, Any] = {
    "popularity": Movie.popularity,
    "vote_average": Movie.vote_average,
    "vote_count": Movie.vote_count,
    "release_date": Movie.release_date,
    "title": Movie.sort_title,
    "revenue": Movie.revenue,
    "runtime": Movie.runtime,
}
# Ascending, a nullable column's NULLs would come first: these computed columns put them last
# (as the search index orders missing values), through an index.
_ASCENDING_SORT_COLUMNS: dict[str, Any] = {
    "release_date": Movie.release_sort,
    "revenue": Movie.revenue_sort,
    "runtime": Movie.runtime_sort,
}
# Where a person is credited, as (movie, person) columns: crew is every crew job, and the
# directors (an admin's movie has directors without crew credits).
_CAST_LINKS = [(col(CastCredit.movie_id), col(CastCredit.person_id))]
_CREW_LINKS = [
    (col(CrewCredit.movie_id), col(CrewCredit.person_id)),
    (col(MovieDirector.movie_id), col(MovieDirector.person_id)),
]


def with_everything() -> list[Any]:
    return [
        selectinload(Movie.genres),  # type: ignore[arg-type]
        selectinload(Movie.cast_credits).selectinload(CastCredit.person),  # type: ignore[arg-type]
        selectinload(Movie.director_links).selectinload(MovieDirector.person),  # type: ignore[arg-type]
    ]


async def get_movie(session: AsyncSession, movie_id: int) -> Movie | None:
    stmt = select(Movie).where(col(Movie.id) == movie_id).options(*with_everything())
    return (await session.execute(stmt)).scalar_one_or_none()


async def movie_details(session: AsyncSession, movie_id: int) -> dict[str, Any] | None:
    """One movie's public fields, its list item's parts, cast, directors and crew, read as
    plain rows: loading the ORM objects took half the time of an uncached details answer."""
    row = (await session.execute(select(*PUBLIC_COLUMNS).where(col(Movie.id) == movie_id))).first()
    if row is None:
        return None
    [movie] = await with_parts(session, [row._asdict()])
    cast = await session.execute(cast_of(movie_id))
    directors = await session.execute(directors_of([movie_id]))
    crew = await session.execute(crew_of(movie_id))
    return {
        **movie,
        "cast": [credit._asdict() for credit in cast],
        "directors": [{"id": pid, "name": name} for _, pid, name in directors],
        "crew": [credit._asdict() for credit in crew],
    }


async def with_parts(session: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of movies' public fields (and whatever else they carry) with their list item's
    parts (ITEM_PARTS): one query per part for all the rows, through the link tables' keys."""
    if not rows:
        return []
    ids = sorted({row["id"] for row in rows})
    parts: dict[int, dict[str, list[dict[str, Any]]]] = {
        movie_id: {name: [] for name in ITEM_PARTS} for movie_id in ids
    }
    for name, read in ITEM_PARTS.items():
        for part in await session.execute(read(ids)):
            fields = part._asdict()
            parts[fields.pop("movie_id")][name].append(fields)
    return [{**row, **parts[row["id"]]} for row in rows]


def cast_of(movie_id: int) -> Any:
    """A movie's cast as CastPublic's fields, in billing order."""
    return (
        select(
            col(Person.id),
            col(Person.name),
            col(CastCredit.character),
            col(CastCredit.billing_order).label("order"),
            col(Person.profile_path),
        )
        .select_from(CastCredit)
        .join(Person, col(Person.id) == col(CastCredit.person_id))
        .where(col(CastCredit.movie_id) == movie_id)
        .order_by(*CAST_ORDER)
    )


def crew_of(movie_id: int) -> Any:
    """A movie's every crew job as CrewPublic's fields, in TMDB's order."""
    return (
        select(col(Person.id), col(Person.name), col(CrewCredit.department), col(CrewCredit.job))
        .join(Person, col(Person.id) == col(CrewCredit.person_id))
        .where(col(CrewCredit.movie_id) == movie_id)
        .order_by(col(CrewCredit.position), col(CrewCredit.id))
    )


def genres_of(movie_ids: list[int]) -> Any:
    """(movie id, genre id, genre name) of these movies, each movie's genres by name."""
    return (
        select(col(MovieGenre.movie_id), col(Genre.id), col(Genre.name))
        .join(Genre, col(Genre.id) == col(MovieGenre.genre_id))
        .where(col(MovieGenre.movie_id).in_(movie_ids))
        .order_by(col(Genre.name))
    )


def keywords_of(movie_ids: list[int]) -> Any:
    """(movie id, keyword id, name) of these movies, each movie's keywords by name."""
    return (
        select(col(MovieKeyword.movie_id), col(Keyword.id), col(Keyword.name))
        .join(Keyword, col(Keyword.id) == col(MovieKeyword.keyword_id))
        .where(col(MovieKeyword.movie_id).in_(movie_ids))
        .order_by(col(Keyword.name), col(Keyword.id))
    )


def companies_of(movie_ids: list[int]) -> Any:
    """(movie id, company id, name) of these movies' production companies, in TMDB's order."""
    return (
        select(col(MovieCompany.movie_id), col(Company.id), col(Company.name))
        .join(Company, col(Company.id) == col(MovieCompany.company_id))
        .where(col(MovieCompany.movie_id).in_(movie_ids))
        .order_by(col(MovieCompany.position), col(Company.id))
    )


def countries_of(movie_ids: list[int]) -> Any:
    """(movie id, ISO 3166-1 code, name) of these movies' production countries, in order."""
    country = MovieCountry
    return (
        select(col(country.movie_id), col(country.iso_3166_1), col(country.name))
        .where(col(country.movie_id).in_(movie_ids))
        .order_by(col(country.position), col(country.iso_3166_1))
    )


def languages_of(movie_ids: list[int]) -> Any:
    """(movie id, ISO 639-1 code, name) of these movies' spoken languages, in order."""
    language = MovieLanguage
    return (
        select(col(language.movie_id), col(language.iso_639_1), col(language.name))
        .where(col(language.movie_id).in_(movie_ids))
        .order_by(col(language.position), col(language.iso_639_1))
    )


# A list item's parts beyond its row, by field (MovieListItem's), each read for a page of
# movies at once; the columns after the movie id are the part's fields.
ITEM_PARTS = {
    "genres": genres_of,
    "keywords": keywords_of,
    "production_companies": companies_of,
    "production_countries": countries_of,
    "spoken_languages": languages_of,
}


def directors_of(movie_ids: list[int]) -> Any:
    """(movie id, person id, name) of these movies' directors, each movie's in credit order."""
    return (
        select(col(MovieDirector.movie_id), col(Person.id), col(Person.name))
        .join(Person, col(Person.id) == col(MovieDirector.person_id))
        .where(col(MovieDirector.movie_id).in_(movie_ids))
        .order_by(col(MovieDirector.position))
    )


async def movie_exists(session: AsyncSession, movie_id: int) -> bool:
    stmt = select(col(Movie.id)).where(col(Movie.id) == movie_id)
    return (await session.execute(stmt)).first() is not None


def _genre_clause(genre_ids: list[int], match_all: bool) -> list[ColumnElement[bool]]:
    def has(*ids: int) -> ColumnElement[bool]:
        return exists().where(
            col(MovieGenre.movie_id) == col(Movie.id), col(MovieGenre.genre_id).in_(ids)
        )

    if not genre_ids:
        return []
    return [has(gid) for gid in genre_ids] if match_all else [has(*genre_ids)]


def _credited(links: list[tuple[Any, Any]], person_ids: list[int]) -> ColumnElement[bool]:
    """Any of these people credited on the movie through any of these links."""
    if len(links) == 1:
        movie, person = links[0]
        return exists().where(movie == col(Movie.id), person.in_(person_ids))
    # One IN over one derived table of the credits: MariaDB semi-joins it, reading only these
    # people's credits through the person indexes, where an OR of EXISTS (or an IN over a
    # UNION) checks every movie in turn.
    credits = union_all(
        *(select(movie.label("movie_id")).where(person.in_(person_ids)) for movie, person in links)
    ).subquery("credits")
    return col(Movie.id).in_(select(credits.c.movie_id))


def _people_clause(
    links: list[tuple[Any, Any]], all_ids: list[int], any_ids: list[int]
) -> list[ColumnElement[bool]]:
    clauses = [_credited(links, [person_id]) for person_id in all_ids]
    return clauses + [_credited(links, any_ids)] if any_ids else clauses


def _linked(movie: Any, key: Any, groups: list[list[int]]) -> list[ColumnElement[bool]]:
    """For each group, the movie has one of its ids (an empty group: nothing matches)."""
    return [exists().where(movie == col(Movie.id), key.in_(group)) for group in groups]


def filter_clauses(f: MovieFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.impossible:
        return [col(Movie.id).is_(None)]
    clauses += _genre_clause(f.genres_all, match_all=True)
    clauses += _genre_clause(f.genres_any, match_all=False)
    clauses += _people_clause(_CAST_LINKS, f.cast_all, f.cast_any)
    clauses += _people_clause(_CREW_LINKS, f.crew_all, f.crew_any)
    clauses += _people_clause(_CAST_LINKS + _CREW_LINKS, f.people_all, f.people_any)
    clauses += _linked(col(MovieKeyword.movie_id), col(MovieKeyword.keyword_id), f.keyword_groups)
    clauses += _linked(col(MovieCompany.movie_id), col(MovieCompany.company_id), f.company_groups)
    if f.languages:
        clauses.append(col(Movie.original_language).in_(f.languages))
    if f.year is not None:
        clauses.append(col(Movie.release_date).between(date(f.year, 1, 1), date(f.year, 12, 31)))
    if f.release_date_gte is not None:
        clauses.append(col(Movie.release_date) >= f.release_date_gte)
    if f.release_date_lte is not None:
        clauses.append(col(Movie.release_date) <= f.release_date_lte)
    if f.vote_average_gte is not None:
        clauses.append(col(Movie.vote_average) >= f.vote_average_gte)
    if f.vote_count_gte is not None:
        clauses.append(col(Movie.vote_count) >= f.vote_count_gte)
    if f.runtime_gte is not None:
        clauses.append(col(Movie.runtime) >= f.runtime_gte)
    if f.runtime_lte is not None:
        clauses.append(col(Movie.runtime) <= f.runtime_lte)
    return clauses


def order_by(sort: SortSpec) -> list[Any]:
    """Sort column then id in the same direction, so one index serves both; NULLs last."""
    if sort.descending:  # MySQL and SQLite both put NULL last when descending
        return [_SORT_COLUMNS[sort.field].desc(), col(Movie.id).desc()]
    column = _ASCENDING_SORT_COLUMNS.get(sort.field, _SORT_COLUMNS[sort.field])
    return [column.asc(), col(Movie.id).asc()]


async def page_movies(
    session: AsyncSession,
    clauses: list[ColumnElement[bool]],
    sort: SortSpec,
    params: PageParams,
) -> tuple[int, list[dict[str, Any]]]:
    """How many movies match, and this page of them as rows of their public fields with their
    list item's parts (with_parts)."""
    where = and_(True, *clauses)
    total = (
        await session.execute(select(func.count()).select_from(Movie).where(where))
    ).scalar_one()
    if params.offset >= total:
        return total, []
    stmt = (
        select(*PUBLIC_COLUMNS)
        .where(where)
        .order_by(*order_by(sort))
        .offset(params.offset)
        .limit(params.per_page)
    )
    rows = [row._asdict() for row in await session.execute(stmt)]
    return total, await with_parts(session, rows)


async def movies_in_order(session: AsyncSession, movie_ids: Sequence[int]) -> list[dict[str, Any]]:
    """These movies as rows of their public fields with their list item's parts, in the order
    of `movie_ids` (missing ones skipped)."""
    if not movie_ids:
        return []
    stmt = select(*PUBLIC_COLUMNS).where(col(Movie.id).in_(movie_ids))
    by_id = {row.id: row._asdict() for row in await session.execute(stmt)}
    return await with_parts(session, [by_id[i] for i in movie_ids if i in by_id])


async def resolve_genres(session: AsyncSession, names: Sequence[str]) -> dict[str, int]:
    """Lower-cased genre name -> id for the names that exist."""
    if not names:
        return {}
    lowered = {name.lower() for name in names}
    rows = await session.execute(
        select(func.lower(Genre.name), col(Genre.id)).where(func.lower(Genre.name).in_(lowered))
    )
    return {name: gid for name, gid in rows.all()}


async def resolve_keywords(session: AsyncSession, names: Sequence[str]) -> dict[str, list[int]]:
    """Lower-cased keyword name -> the ids of the keywords so named, for the names that exist."""
    return await _resolve_names(session, Keyword, names)


async def resolve_companies(session: AsyncSession, names: Sequence[str]) -> dict[str, list[int]]:
    """Lower-cased company name -> the ids of the companies so named (TMDB has namesakes)."""
    return await _resolve_names(session, Company, names)


async def _resolve_names(
    session: AsyncSession, model: type[Keyword] | type[Company], names: Sequence[str]
) -> dict[str, list[int]]:
    lowered = {name.lower() for name in names}
    stmt = names_lookup(model, lowered, session.get_bind().dialect.name)
    found: dict[str, list[int]] = defaultdict(list)
    for found_name, found_id in await session.execute(stmt):
        # The collation also ignores accents: only a case-insensitive equal name counts.
        if found_name.lower() in lowered and found_id is not None:
            found[found_name.lower()].append(found_id)
    return dict(found)


def names_lookup(
    model: type[Keyword] | type[Company], lowered: set[str], dialect: str
) -> Select[str, int | None]:
    """(name, id) of the rows whose name is one of these lower-cased names, whatever its case."""
    name = col(model.name)
    # MariaDB's collation ignores case, so the name index serves the lookup; SQLite's doesn't.
    match = func.lower(name).in_(lowered) if dialect == "sqlite" else name.in_(lowered)
    return select(name, col(model.id)).where(match).order_by(col(model.id))


async def list_genres_with_counts(session: AsyncSession) -> list[tuple[Genre, int]]:
    count = func.count(col(MovieGenre.movie_id))
    stmt = (
        select(Genre, count)
        .outerjoin(MovieGenre, col(MovieGenre.genre_id) == col(Genre.id))
        .group_by(col(Genre.id))
        .order_by(Genre.name)
    )
    return [(genre, n) for genre, n in (await session.execute(stmt)).all()]
