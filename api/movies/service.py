"""Catalog decisions: creating, updating and deleting movies, each with its audit entry.
Never commits."""

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.audit import service as audit
from api.errors import Invalid, NotFound
from api.movies import queries
from api.movies.models import CastCredit, Genre, Movie, MovieDirector
from api.movies.schemas import CastIn, MovieCreate, MovieUpdate, PersonRef
from api.outbox import record_changes
from api.people import queries as people
from api.people.models import Person
from api.types import utcnow

_SCALARS = (
    "title", "original_title", "overview", "tagline", "release_date", "original_language",
    "runtime", "status", "poster_path", "backdrop_path", "popularity", "budget", "revenue",
    "homepage",
)  # fmt: skip


async def create_movie(session: AsyncSession, data: MovieCreate, actor: audit.Actor) -> int:
    """The new movie's id (its changes flushed, not committed)."""
    fields = data.model_dump(include=set(_SCALARS), exclude_none=True)
    fields.setdefault("original_title", data.title)
    movie = Movie.model_validate(fields)
    session.add(movie)
    await session.flush()
    assert movie.id is not None
    await _replace_relations(session, movie, data)
    await session.flush()
    await record_changes(session, [movie.id], await people.people_of(session, [movie.id]))
    # The values stored: defaults applied, genres and people resolved to their ids.
    stored = await _audited(session, movie.id, {*data.model_fields_set, "original_title"})
    await audit.record(session, actor, "create", "movie", movie.id, audit.created(stored))
    return movie.id


def movie_row(movie_id: int) -> Select[int | None]:
    """The movie's row, to lock before a conditional write (api.preconditions.lock_current)."""
    return select(col(Movie.id)).where(col(Movie.id) == movie_id)


async def update_movie(
    session: AsyncSession, movie_id: int, data: MovieUpdate, actor: audit.Actor
) -> None:
    movie = await _existing(session, movie_id)
    before = await _audited(session, movie_id, data.model_fields_set)
    credited = set(await people.people_of(session, [movie_id]))
    for name in _SCALARS:
        if name in data.model_fields_set:
            setattr(movie, name, getattr(data, name))
    movie.updated_at = utcnow()
    await _replace_relations(session, movie, data)
    await session.flush()
    # Everyone credited before or after: their popularity and best-known films may move.
    credited.update(await people.people_of(session, [movie_id]))
    await record_changes(session, [movie_id], sorted(credited))
    after = await _audited(session, movie_id, data.model_fields_set)
    await audit.record(session, actor, "update", "movie", movie_id, audit.updated(before, after))


async def delete_movie(session: AsyncSession, movie_id: int, actor: audit.Actor) -> None:
    movie = await session.get(Movie, movie_id)
    if movie is None:
        raise NotFound(f"Movie {movie_id} not found", "movie_not_found")
    credited = await people.people_of(session, [movie_id])
    gone = await _audited(session, movie_id, AUDITED)
    # Dependents (credits, genres, reviews, list entries) go by ON DELETE CASCADE.
    await session.execute(delete(Movie).where(col(Movie.id) == movie_id))
    await record_changes(session, [movie_id], credited)
    await audit.record(session, actor, "delete", "movie", movie_id, audit.deleted(gone))


async def _audited(session: AsyncSession, movie_id: int, names: Collection[str]) -> dict[str, Any]:
    """The movie's values of the fields `names` (of AUDITED) as its audit entries record them,
    people and genres by id and name; read from the database (flush changes first)."""
    wanted = [name for name in AUDITED if name in names]
    values: dict[str, Any] = {}
    scalars = [col(getattr(Movie, name)) for name in wanted if name in _SCALARS]
    if scalars:
        row = (await session.execute(select(*scalars).where(col(Movie.id) == movie_id))).one()
        values.update(row._asdict())
    for name in wanted:
        if name in _RELATIONS:
            values[name] = await _RELATIONS[name](session, movie_id)
    return values


async def _genre_values(session: AsyncSession, movie_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(queries.genres_of([movie_id]))
    return [{"id": genre_id, "name": name} for _, genre_id, name in rows]


async def _cast_values(session: AsyncSession, movie_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(queries.cast_of(movie_id))
    return [{"id": c.id, "name": c.name, "character": c.character, "order": c.order} for c in rows]


async def _director_values(session: AsyncSession, movie_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(queries.directors_of([movie_id]))
    return [{"id": person_id, "name": name} for _, person_id, name in rows]


_RELATIONS: dict[str, Callable[[AsyncSession, int], Awaitable[list[dict[str, Any]]]]] = {
    "genres": _genre_values,
    "cast": _cast_values,
    "directors": _director_values,
}
# What a movie's audit entries record: the fields an admin's body may change.
AUDITED = (*_SCALARS, *_RELATIONS)


async def _existing(session: AsyncSession, movie_id: int) -> Movie:
    movie = await queries.get_movie(session, movie_id)
    if movie is None:
        raise NotFound(f"Movie {movie_id} not found", "movie_not_found")
    return movie


async def _replace_relations(
    session: AsyncSession, movie: Movie, data: MovieCreate | MovieUpdate
) -> None:
    fields = data.model_fields_set
    assert movie.id is not None
    if "genres" in fields and data.genres is not None:
        genres = await _genres(session, data.genres)
        await session.refresh(movie, ["genres"])
        movie.genres = genres
    if "cast" in fields and data.cast is not None:
        await _replace_cast(session, movie.id, data.cast)
    if "directors" in fields and data.directors is not None:
        await _replace_directors(session, movie.id, data.directors)


async def _genres(session: AsyncSession, refs: Sequence[str | int]) -> list[Genre]:
    """Genres by id (must exist) or by name (created when new), without duplicates."""
    result: dict[int, Genre] = {}
    for ref in refs:
        genre = await _genre(session, ref)
        assert genre.id is not None
        result[genre.id] = genre
    return list(result.values())


async def _genre(session: AsyncSession, ref: str | int) -> Genre:
    if isinstance(ref, str) and ref.isascii() and ref.isdigit():
        ref = int(ref)  # "28" is an id, as in the list filters, not a new genre named "28"
    if isinstance(ref, int):
        genre = await session.get(Genre, ref)
        if genre is None:
            raise Invalid(f"Unknown genre id {ref}", "unknown_genre", loc=("body", "genres"))
        return genre
    stmt = select(Genre).where(func.lower(Genre.name) == ref.lower())
    genre = (await session.execute(stmt)).scalars().first()
    if genre is None:
        genre = Genre.model_validate({"name": ref})
        session.add(genre)
        await session.flush()
    return genre


async def resolve_person(session: AsyncSession, ref: PersonRef, field: str = "cast") -> Person:
    if ref.person_id is not None:
        person = await session.get(Person, ref.person_id)
        if person is None:
            detail = f"Unknown person_id {ref.person_id}"
            raise Invalid(detail, "unknown_person", loc=("body", field))
        return person
    assert ref.name is not None
    stmt = select(Person).where(col(Person.name) == ref.name).order_by(col(Person.id)).limit(1)
    person = (await session.execute(stmt)).scalars().first()
    if person is None:
        person = Person.model_validate({"name": ref.name})
        session.add(person)
        await session.flush()
    return person


async def _replace_cast(session: AsyncSession, movie_id: int, cast: list[CastIn]) -> None:
    await session.execute(delete(CastCredit).where(col(CastCredit.movie_id) == movie_id))
    for position, item in enumerate(cast):
        person = await resolve_person(session, item)
        order = item.order if item.order is not None else position
        credit = {"movie_id": movie_id, "person_id": person.id, "character": item.character}
        session.add(CastCredit.model_validate({**credit, "billing_order": order}))


async def _replace_directors(session: AsyncSession, movie_id: int, refs: list[PersonRef]) -> None:
    await session.execute(delete(MovieDirector).where(col(MovieDirector.movie_id) == movie_id))
    seen: set[int] = set()
    for position, ref in enumerate(refs):
        person = await resolve_person(session, ref, "directors")
        assert person.id is not None
        if person.id not in seen:
            seen.add(person.id)
            link = {"movie_id": movie_id, "person_id": person.id, "position": position}
            session.add(MovieDirector.model_validate(link))
