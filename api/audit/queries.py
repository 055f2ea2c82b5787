"""Audit reads: a page of entries, newest first, under the listing's filters."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from api.audit.models import AuditEntry
from api.audit.schemas import AuditFilters
from api.pagination import PageParams


def _utc(moment: datetime) -> datetime:
    """A timestamp without an offset is read as UTC, as every timestamp of the API is."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def filter_clauses(filters: AuditFilters) -> list[ColumnElement[bool]]:
    equal: list[tuple[Any, Any]] = [
        (AuditEntry.resource, filters.resource),
        (AuditEntry.resource_id, filters.resource_id),
        (AuditEntry.user_id, filters.user_id),
        (AuditEntry.action, filters.action),
    ]
    clauses = [col(column) == value for column, value in equal if value is not None]
    if filters.at_gte is not None:
        clauses.append(col(AuditEntry.at) >= _utc(filters.at_gte))
    if filters.at_lte is not None:
        clauses.append(col(AuditEntry.at) <= _utc(filters.at_lte))
    return clauses


async def page_entries(
    session: AsyncSession, filters: AuditFilters, params: PageParams
) -> tuple[int, list[AuditEntry]]:
    """The total and one page of the entries matching, newest (last written) first."""
    clauses = filter_clauses(filters)
    count = select(func.count()).select_from(AuditEntry).where(*clauses)
    total = (await session.execute(count)).scalar_one()
    stmt = (
        select(AuditEntry)
        .where(*clauses)
        .order_by(col(AuditEntry.id).desc())
        .offset(params.offset)
        .limit(params.per_page)
    )
    return total, list((await session.execute(stmt)).scalars())
