"""The audit_entry table: one row per admin write, kept when its author's account goes."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.types import TABLE_ARGS, UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    # One index per filter of GET /admin/audit (API.md), each ending with the id: the page's
    # order (newest first) comes from the index, whatever the filter.
    __table_args__ = (
        sa.Index("ix_audit_entry_resource", "resource", "resource_id", "id"),
        sa.Index("ix_audit_entry_user", "user_id", "id"),
        sa.Index("ix_audit_entry_action", "action", "id"),
        sa.Index("ix_audit_entry_at", "at", "id"),
        TABLE_ARGS,
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False))
    # Who, as they were at the time: no foreign key, so the record outlives the account.
    # Both null for an operator's change (the start-up bootstrap, `marquee create-admin`).
    user_id: int | None = Field(default=None)
    user_email: str | None = Field(default=None, max_length=320)
    source: str = Field(max_length=16)  # api, startup or cli
    action: str = Field(max_length=16)  # create, update or delete
    resource: str = Field(max_length=32)  # movie, person, review or user
    resource_id: int
    # {field: {"old": ..., "new": ...}} (creates: "new" only; deletes: "old" only).
    changes: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
