"""The audit trail's one writer: a change's diff, recorded in the change's own transaction (so
the two commit or roll back together). Never commits. Plumbing the domains' services call: it
imports no domain."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit.models import AuditEntry
from api.audit.schemas import Action, Resource, Source

Changes = dict[str, dict[str, Any]]

# What a secret (a password) is recorded as: that it changed, never its value or its hash.
REDACTED = "(redacted)"
# A list value (a cast of hundreds) keeps its first items up to about this much JSON, and says
# how many it left out; text fields are bounded by their schema (an overview: 10,000 characters)
# and stored whole. An entry stays under ~100 KB.
MAX_LIST_CHARS = 16_000


class Principal(Protocol):
    """The signed-in account as the audit trail needs it."""

    @property
    def id(self) -> int | None: ...

    @property
    def email(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: an admin through the API, or the operator (no account)."""

    source: Source
    user_id: int | None = None
    email: str | None = None

    @classmethod
    def admin(cls, user: Principal) -> "Actor":
        return cls("api", user.id, user.email)


STARTUP = Actor("startup")  # the admin bootstrap (ADMIN_EMAIL / ADMIN_PASSWORD)
CLI = Actor("cli")  # `marquee create-admin`


async def record(
    session: AsyncSession,
    actor: Actor,
    action: Action,
    resource: Resource,
    resource_id: int,
    changes: Changes,
) -> AuditEntry:
    """Add the entry to the session's transaction (flushed, not committed): call it after the
    change's checks, so a refused write leaves no entry."""
    entry = AuditEntry.model_validate(
        {
            "user_id": actor.user_id,
            "user_email": actor.email,
            "source": actor.source,
            "action": action,
            "resource": resource,
            "resource_id": resource_id,
            "changes": changes,
        }
    )
    session.add(entry)
    await session.flush()
    return entry


def updated(before: Mapping[str, Any], after: Mapping[str, Any]) -> Changes:
    """The fields of `before` whose value differs in `after`, with both values."""
    changes: Changes = {}
    for name, value in before.items():
        old, new = jsonable(value), jsonable(after[name])
        if old != new:
            changes[name] = {**_side("old", old), **_side("new", new)}
    return changes


def created(values: Mapping[str, Any]) -> Changes:
    """A new resource's values (those that are set)."""
    return {name: _side("new", jsonable(v)) for name, v in values.items() if v is not None}


def deleted(values: Mapping[str, Any]) -> Changes:
    """A removed resource's values (those that were set)."""
    return {name: _side("old", jsonable(v)) for name, v in values.items() if v is not None}


def jsonable(value: Any) -> Any:
    """`value` as JSON holds it: dates and timestamps as ISO strings."""
    return to_jsonable_python(value)


def _side(key: str, value: Any) -> dict[str, Any]:
    kept, omitted = _fit(value)
    return {key: kept, f"{key}_omitted": omitted} if omitted else {key: kept}


def _fit(value: Any) -> tuple[Any, int]:
    """A list over MAX_LIST_CHARS of JSON keeps its first items that fit; how many it left out."""
    if not isinstance(value, list) or len(_json(value)) <= MAX_LIST_CHARS:
        return value, 0
    kept: list[Any] = []
    size = 2  # the brackets
    for item in value:
        size += len(_json(item)) + 2  # and a separator
        if size > MAX_LIST_CHARS:
            break
        kept.append(item)
    return kept, len(value) - len(kept)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
