"""The search outbox: one row per change to a movie's search document, written in the
same transaction as the change, drained by the worker."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.types import TABLE_ARGS, UTCDateTime, utcnow


class SearchOutbox(SQLModel, table=True):
    __tablename__ = "search_outbox"
    __table_args__ = (sa.Index("ix_search_outbox_pending", "processed_at", "id"), TABLE_ARGS)

    id: int | None = Field(default=None, primary_key=True)
    movie_id: int = Field(index=False)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    processed_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
