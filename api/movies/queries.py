"""Catalog reads, shared by the API and the worker."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from api.movies.models import CastCredit, Genre, Movie, MovieDirector, MovieGenre
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
}


def with_genres() -> Any:
    return selectinload(Movie.genres)  # type: ignore[arg-type]


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
    """One movie's public fields, genres, cast and directors, read as plain rows: loading the
    ORM objects took half the time of an uncached details answer."""
    row = (await session.execute(select(*PUBLIC_COLUMNS).where(col(Movie.id) == movie_id))).first()
    if row is None:
        return None
    genres = await session.execute(genres_of([movie_id]))
    cast: Any = await session.execute(
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
    directors = await session.execute(directors_of([movie_id]))
    return {
        **row._asdict(),
        "genres": [{"id": gid, "name": name} for _, gid, name in genres],
        "cast": [credit._asdict() for credit in cast],
        "directors": [{"id": pid, "name": name} for _, pid, name in directors],
    }


def genres_of(movie_ids: list[int]) -> Any:
    """(movie id, genre id, genre name) of these movies, each movie's genres by name."""
    return (
        select(col(MovieGenre.movie_id), col(Genre.id), col(Genre.name))
        .join(Genre, col(Genre.id) == col(MovieGenre.genre_id))
        .where(col(MovieGenre.movie_id).in_(movie_ids))
        .order_by(col(Genre.name))
    )


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


def _cast_clause(person_ids: list[int], match_all: bool) -> list[ColumnElement[bool]]:
    def has(*ids: int) -> ColumnElement[bool]:
        return exists().where(
            col(CastCredit.movie_id) == col(Movie.id), col(CastCredit.person_id).in_(ids)
        )

    if not person_ids:
        return []
    return [has(pid) for pid in person_ids] if match_all else [has(*person_ids)]


def filter_clauses(f: MovieFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.impossible:
        return [col(Movie.id).is_(None)]
    clauses += _genre_clause(f.genres_all, match_all=True)
    clauses += _genre_clause(f.genres_any, match_all=False)
    clauses += _cast_clause(f.cast_all, match_all=True)
    clauses += _cast_clause(f.cast_any, match_all=False)
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
    return clauses


def order_by(sort: SortSpec) -> list[Any]:
    """Sort column then id in the same direction, so one index serves both; NULL dates last."""
    column = _SORT_COLUMNS[sort.field]
    if sort.descending:  # MySQL and SQLite both put NULL last when descending
        return [column.desc(), col(Movie.id).desc()]
    if sort.field == "release_date":
        column = Movie.release_sort  # NULL dates last, through an index
    return [column.asc(), col(Movie.id).asc()]


async def page_movies(
    session: AsyncSession,
    clauses: list[ColumnElement[bool]],
    sort: SortSpec,
    params: PageParams,
) -> tuple[int, list[Movie]]:
    where = and_(True, *clauses)
    total = (
        await session.execute(select(func.count()).select_from(Movie).where(where))
    ).scalar_one()
    if params.offset >= total:
        return total, []
    stmt: Select[Movie] = (
        select(Movie)
        .where(where)
        .order_by(*order_by(sort))
        .offset(params.offset)
        .limit(params.per_page)
        .options(with_genres())
    )
    return total, list((await session.execute(stmt)).scalars())


async def resolve_genres(session: AsyncSession, names: Sequence[str]) -> dict[str, int]:
    """Lower-cased genre name -> id for the names that exist."""
    if not names:
        return {}
    lowered = {name.lower() for name in names}
    rows = await session.execute(
        select(func.lower(Genre.name), col(Genre.id)).where(func.lower(Genre.name).in_(lowered))
    )
    return {name: gid for name, gid in rows.all()}


async def list_genres_with_counts(session: AsyncSession) -> list[tuple[Genre, int]]:
    count = func.count(col(MovieGenre.movie_id))
    stmt = (
        select(Genre, count)
        .outerjoin(MovieGenre, col(MovieGenre.genre_id) == col(Genre.id))
        .group_by(col(Genre.id))
        .order_by(Genre.name)
    )
    return [(genre, n) for genre, n in (await session.execute(stmt)).all()]
