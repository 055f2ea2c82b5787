"""People endpoints: a person with their credits, popular people, search, and admins' edits."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit.service import Actor
from api.cache import CATALOG, PEOPLE, SEARCH, person_scope
from api.deps import AdminUser, PageDep, SessionDep, SettingsDep
from api.errors import NotFound
from api.http_cache import cached_json
from api.movies.present import movie_item_fields
from api.pagination import Page
from api.people import queries, service
from api.people.schemas import PersonDetails, PersonListItem, PersonUpdate
from api.preconditions import CONDITIONAL, IfMatchDep, lock_current, tagged
from api.search.service import search_people_page

router = APIRouter(tags=["people"])
PersonId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SearchQuery = Annotated[
    str, Query(max_length=200, description="a name; typo-tolerant, as-you-type")
]


async def _details(session: AsyncSession, image_base: str, person_id: int) -> PersonDetails:
    person = await queries.person_row(session, person_id)
    if person is None:
        raise NotFound(f"Person {person_id} not found", "person_not_found")
    cast = await queries.cast_credits(session, person_id)
    crew = await queries.crew_credits(session, person_id)
    items = await movie_item_fields(session, [*cast, *crew], image_base)
    credits = {"cast": items[: len(cast)], "crew": items[len(cast) :]}
    return PersonDetails.model_validate({**person, "movie_credits": credits})


@router.get("/people/popular", response_model=Page[PersonListItem])
async def list_popular_people(request: Request, session: SessionDep, params: PageDep) -> Response:
    """People by popularity, derived from their movies' (README, People), with the few films
    each is best known for."""

    async def build() -> Page[PersonListItem]:
        total, rows = await queries.popular_page(session, params.offset, params.per_page)
        items = [PersonListItem.model_validate(row) for row in rows]
        return Page[PersonListItem].build(params, total, items)

    return await cached_json(request, [PEOPLE, CATALOG], build)


@router.get("/people/search", response_model=Page[PersonListItem])
async def search_people(
    request: Request, settings: SettingsDep, params: PageDep, q: SearchQuery = ""
) -> Response:
    """Typo-tolerant, as-you-type search over people's names, the most popular first among
    equal matches; each result carries the films they are best known for."""

    async def build() -> bytes:
        meili = request.app.state.meili or await request.app.state.search.connect()
        return await search_people_page(meili, settings.people_index, q, params)

    return await cached_json(request, [SEARCH], build, vary=settings.people_index)


@router.get("/people/{person_id:int}", response_model=PersonDetails)
async def get_person(
    request: Request, session: SessionDep, settings: SettingsDep, person_id: PersonId
) -> Response:
    """One person with their movie credits as cast and as crew, newest first."""

    async def build() -> PersonDetails:
        return await _details(session, settings.IMAGE_BASE_URL, person_id)

    return await cached_json(request, [CATALOG, person_scope(person_id)], build)


@router.patch("/people/{person_id:int}", response_model=PersonDetails, responses=CONDITIONAL)
async def update_person(
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminUser,
    person_id: PersonId,
    body: PersonUpdate,
    if_match: IfMatchDep,
) -> Response:
    """Admins: edit a person; every movie they appear in is searchable under the new name
    within a couple of seconds. With If-Match (the ETag of GET /people/{id}), 412 if they
    changed since; the answer carries their new ETag."""
    if if_match is not None and await lock_current(session, service.person_row(person_id)):
        if_match.require(await _details(session, settings.IMAGE_BASE_URL, person_id))
    await service.update_person(session, person_id, body, Actor.admin(admin))
    return tagged(await _details(session, settings.IMAGE_BASE_URL, person_id))
