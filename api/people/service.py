"""People decisions: an admin's edit of a person, reaching every document that names them,
with its audit entry. Never commits."""

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.audit import service as audit
from api.errors import NotFound
from api.outbox import record_changes
from api.people import queries
from api.people.models import Person
from api.people.schemas import PersonUpdate


def person_row(person_id: int) -> Select[int | None]:
    """The person's row, to lock before a conditional edit (api.preconditions.lock_current)."""
    return select(col(Person.id)).where(col(Person.id) == person_id)


async def update_person(
    session: AsyncSession, person_id: int, data: PersonUpdate, actor: audit.Actor
) -> None:
    """Change the fields sent. Every movie naming them is re-indexed through the outbox: one
    entry per movie, written in this transaction (a person with 100 films is 100 rows here and
    bounded batches for the worker), so search finds them under the new name."""
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(f"Person {person_id} not found", "person_not_found")
    before = {name: getattr(person, name) for name in data.model_fields_set}
    for name in data.model_fields_set:
        setattr(person, name, getattr(data, name))
    await session.flush()
    await record_changes(session, await queries.movie_ids_of(session, person_id), [person_id])
    after = {name: getattr(person, name) for name in data.model_fields_set}
    await audit.record(session, actor, "update", "person", person_id, audit.updated(before, after))
