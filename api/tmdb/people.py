"""`/3/person/*` (TMDB_V3.md 3.4, 4 rows 15-16, 6): a person with `append_to_response`, their
movie credits (and TMDB's combined, TV, image and external-id views of them), popular people
and the latest one, read as the native people routes read them and cached in the same scopes."""

from collections.abc import Callable, Mapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.cache import CATALOG, PEOPLE, person_scope
from api.deps import SessionDep, SettingsDep
from api.movies.present import item_fields, movie_item_fields
from api.movies.queries import movies_in_order
from api.people import queries
from api.people.models import Person
from api.tmdb.cached import cached_answer
from api.tmdb.errors import NOT_FOUND, TOO_MANY_APPENDS, TmdbError
from api.tmdb.paging import TmdbPage, TmdbPageDep
from api.tmdb.shapes import (
    page,
    person_details,
    person_external_ids,
    person_item,
    person_movie_credits,
    profile_images,
)

router = APIRouter(tags=["people"])
PersonId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_APPENDS = 20
Native = dict[str, Any]


def _credits(person: Native) -> Native:
    return person_movie_credits(person)


def _combined(person: Native) -> Native:
    return person_movie_credits(person, media_type=True)


def _tv_credits(_: Native) -> Native:
    return {"cast": [], "crew": []}


def _translations(_: Native) -> Native:
    return {"translations": []}


def _tagged_images(_: Native) -> Native:
    return page(1, 0, [])


# What `append_to_response` may add, each under its own name (unknown names are ignored).
APPENDS: dict[str, Callable[[Native], Native]] = {
    "movie_credits": _credits,
    "combined_credits": _combined,
    "images": profile_images,
    "external_ids": lambda _: person_external_ids(),
    "tv_credits": _tv_credits,
    "translations": _translations,
    "tagged_images": _tagged_images,
}
# The parts that need the person's credits read (the rest need only their row).
_NEED_CREDITS = {"movie_credits", "combined_credits"}


def appended(value: str | None) -> list[str]:
    """The names asked for, or TMDB's 400 (code 27) for more than 20."""
    names = [name.strip() for name in (value or "").split(",") if name.strip()]
    if len(names) > MAX_APPENDS:
        raise TmdbError(TOO_MANY_APPENDS)
    return names


async def person_record(
    session: AsyncSession, image_base: str, person_id: int, with_credits: bool = True
) -> Native:
    """A person as the native details read them (api.people.router): their row and, when
    asked, their movie credits as list items (cast rows with `character` and `order`, crew
    rows with `department` and `job`); TMDB's 404 (code 34) for an unknown id."""
    person = await queries.person_row(session, person_id)
    if person is None:
        raise TmdbError(NOT_FOUND)
    if not with_credits:
        return person
    cast = await queries.cast_credits(session, person_id)
    crew = await queries.crew_credits(session, person_id)
    items = await movie_item_fields(session, [*cast, *crew], image_base)
    return {**person, "movie_credits": {"cast": items[: len(cast)], "crew": items[len(cast) :]}}


def _json(body: Native) -> bytes:
    return orjson.dumps(body)


async def _answer(request: Request, person_id: int, build: Callable[[], Any]) -> Response:
    """Cached as the native person details are: any movie's change, or this person's."""
    return await cached_answer(request, [CATALOG, person_scope(person_id)], build)


@router.get("/person/{person_id:int}")
async def get_person(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    person_id: PersonId,
    append_to_response: Annotated[
        str | None, Query(max_length=2000, description="comma-separated: movie_credits, ...")
    ] = None,
) -> Response:
    """A person; `append_to_response` adds movie_credits, combined_credits, images,
    external_ids, tv_credits, translations and tagged_images (other names are ignored)."""
    names = [name for name in appended(append_to_response) if name in APPENDS]

    async def build() -> bytes:
        with_credits = bool(_NEED_CREDITS.intersection(names))
        person = await person_record(session, settings.IMAGE_BASE_URL, person_id, with_credits)
        return _json({**person_details(person), **{n: APPENDS[n](person) for n in names}})

    return await _answer(request, person_id, build)


def _part_route(name: str, with_credits: bool) -> None:
    """`/person/{id}/<name>`: the append of that name, with the person's `id`."""

    async def get_part(
        request: Request, session: SessionDep, settings: SettingsDep, person_id: PersonId
    ) -> Response:
        async def build() -> bytes:
            image_base = settings.IMAGE_BASE_URL
            person = await person_record(session, image_base, person_id, with_credits)
            return _json({"id": person_id, **APPENDS[name](person)})

        return await _answer(request, person_id, build)

    get_part.__doc__ = f"A person's {name.replace('_', ' ')}."
    path = f"/person/{{person_id:int}}/{name}"
    router.add_api_route(path, get_part, methods=["GET"], name=f"get_person_{name}")


for _name in APPENDS:
    _part_route(_name, _name in _NEED_CREDITS)


@router.get("/person/popular", response_model=TmdbPage[dict[str, Any]])
async def list_popular_people(
    request: Request, session: SessionDep, settings: SettingsDep, params: TmdbPageDep
) -> Response:
    """People by popularity (derived from their movies'), each with the three films they are
    best known for, as full movie items."""

    async def build() -> bytes:
        total, rows = await queries.popular_page(session, params.offset, params.per_page)
        known = await _known_movies(session, settings.IMAGE_BASE_URL, rows)
        people = [person_item(row, _known_for(row, known)) for row in rows]
        return _json(page(params.page, total, people))

    return await cached_answer(request, [PEOPLE, CATALOG], build)


async def _known_movies(
    session: AsyncSession, image_base: str, people: list[Native]
) -> dict[int, Native]:
    """The movies these people are known for, as list items' fields by id (one read)."""
    ids = sorted({movie["id"] for person in people for movie in person["known_for"]})
    return {row["id"]: item_fields(row, image_base) for row in await movies_in_order(session, ids)}


def _known_for(person: Native, movies: dict[int, Native]) -> list[Mapping[str, Any]]:
    return [movies[m["id"]] for m in person["known_for"] if m["id"] in movies]


@router.get("/person/latest")
async def get_latest_person(request: Request, session: SessionDep) -> Response:
    """The person added last (the highest id)."""

    async def build() -> bytes:
        latest = (await session.execute(select(func.max(col(Person.id))))).scalar_one()
        person = await queries.person_row(session, latest) if latest is not None else None
        if person is None:
            raise TmdbError(NOT_FOUND)
        return _json(person_details(person))

    return await cached_answer(request, [PEOPLE, CATALOG], build)
