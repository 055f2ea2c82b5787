"""The audit HTTP contract: an entry as GET /admin/audit answers it, and its filters."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Source = Literal["api", "startup", "cli"]
Action = Literal["create", "update", "delete"]
Resource = Literal["movie", "person", "review", "user"]


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    user_id: int | None = Field(description="the admin's account; null for the operator's")
    user_email: str | None = Field(description="the admin's email at the time")
    source: Source = Field(description="api, or the operator's start-up bootstrap or cli")
    action: Action
    resource: Resource
    resource_id: int
    changes: dict[str, dict[str, Any]] = Field(
        description='{field: {"old", "new"}}: updates both, creates "new", deletes "old"; a long '
        'list keeps its first items and gives the count left out ("old_omitted"/"new_omitted")'
    )


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """Every filter is optional; together they all apply."""

    resource: Resource | None = None
    resource_id: int | None = None
    user_id: int | None = None
    action: Action | None = None
    at_gte: datetime | None = None
    at_lte: datetime | None = None
