"""The audit endpoint: admins page through who changed what (never cached: answers that are
not declared public are `private, no-store`, api.http_cache)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.audit import queries
from api.audit.schemas import Action, AuditEntryPublic, AuditFilters, Resource
from api.deps import AdminUser, PageDep, SessionDep
from api.pagination import Page

router = APIRouter(tags=["admin"])
MAX_ID = 2**31 - 1
_AT = "ISO 8601 timestamp; without an offset, UTC"


async def _filters(
    resource: Annotated[Resource | None, Query(description="what was changed")] = None,
    resource_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="its id")] = None,
    user_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="the admin who made the change")
    ] = None,
    action: Annotated[Action | None, Query()] = None,
    at_gte: Annotated[datetime | None, Query(alias="at.gte", description=_AT)] = None,
    at_lte: Annotated[datetime | None, Query(alias="at.lte", description=_AT)] = None,
) -> AuditFilters:
    return AuditFilters(resource, resource_id, user_id, action, at_gte, at_lte)


@router.get("/admin/audit", response_model=Page[AuditEntryPublic])
async def list_audit_entries(
    session: SessionDep,
    _: AdminUser,
    params: PageDep,
    filters: Annotated[AuditFilters, Depends(_filters)],
) -> Page[AuditEntryPublic]:
    """Admins: every admin change (movies, people, reviews removed, admin accounts made), newest
    first, with who made it and each changed field's old and new value."""
    total, entries = await queries.page_entries(session, filters, params)
    results = [AuditEntryPublic.model_validate(e.model_dump()) for e in entries]
    return Page[AuditEntryPublic].build(params, total, results)
