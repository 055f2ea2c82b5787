"""Conditional writes (RFC 9110 If-Match): a write sent with the ETag its client last saw
proceeds only while the resource still answers with that ETag, so two admins never overwrite
each other unknowingly; a write's answer carries its new ETag so edits can be chained."""

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from api.cache import etag_of, json_of
from api.errors import PreconditionFailed

# One element of an If-Match list (RFC 9110 8.8.3, 5.6.1): an optional weak prefix and a quoted
# opaque tag, which may hold commas, then a comma or the end; empty elements are allowed.
_ELEMENT = re.compile(r'\s*(?:(W/)?("[\x21\x23-\x7e\x80-\xff]*"))?\s*(?:,|\Z)')


@dataclass(frozen=True, slots=True)
class IfMatch:
    """A parsed If-Match: `*`, or the strong tags listed (weak ones never match: If-Match
    compares strongly, RFC 9110 13.1.1; what does not parse matches nothing)."""

    any_current: bool
    tags: frozenset[str]

    @classmethod
    def parse(cls, value: str) -> "IfMatch":
        if value.strip() == "*":
            return cls(any_current=True, tags=frozenset())
        return cls(any_current=False, tags=frozenset(_strong_tags(value)))

    def matches(self, etag: str) -> bool:
        return self.any_current or etag in self.tags

    def require(self, current: BaseModel) -> None:
        """Refuse with 412 unless `current` (the resource as GET answers it now) matches."""
        if not self.matches(etag_of(json_of(current)).decode()):
            raise PreconditionFailed(
                "The resource changed since you read it (If-Match): read it again, then retry"
            )


def _strong_tags(value: str) -> list[str]:
    tags: list[str] = []
    position = 0
    while position < len(value):
        element = _ELEMENT.match(value, position)
        if element is None:  # malformed: the whole field matches nothing
            return []
        if element.group(2) and not element.group(1):
            tags.append(element.group(2))
        position = element.end()
    return tags


async def _if_match(
    request: Request,
    _: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="The ETag you last read: the write answers 412 if the resource "
            "changed since (send it to never overwrite someone else's edit)",
        ),
    ] = None,
) -> IfMatch | None:
    # Every If-Match line, as one list (a header repeated is its values joined by commas).
    values = request.headers.getlist("if-match")
    return IfMatch.parse(", ".join(values)) if values else None


IfMatchDep = Annotated[IfMatch | None, Depends(_if_match)]
# For the routes' OpenAPI: what a stale If-Match answers.
CONDITIONAL: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match: the resource changed since (code precondition_failed)"}
}


async def lock_current(session: AsyncSession, row: Select[Any]) -> bool:
    """Lock `row` (SELECT ... FOR UPDATE) for the rest of the transaction, so that what it
    reads next is the resource as last committed and no other write changes it before this
    one commits; False when the row is gone. Call it before the request writes anything.

    Under REPEATABLE READ, a transaction's first plain read (here, the signed-in user's) fixes
    the snapshot its later plain reads see: even after waiting for the lock, they would show
    the resource as it was before the write that held it. So the read-only transaction so far
    ends first, and the lock opens the next one."""
    if session.in_transaction():
        await session.commit()
    return (await session.execute(row.with_for_update())).first() is not None


def tagged(answer: BaseModel, status_code: int = 200) -> Response:
    """`answer` as JSON with its ETag: the bytes and tag a GET of the resource answers."""
    body = json_of(answer)
    headers = {"ETag": etag_of(body).decode()}
    return Response(body, status_code, headers=headers, media_type="application/json")
