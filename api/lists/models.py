"""The list_entry table: a movie on a user's watchlist or favorites."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.types import TABLE_ARGS, UTCDateTime, utcnow


class ListKind(StrEnum):
    WATCHLIST = "watchlist"
    FAVORITE = "favorite"


class ListEntry(SQLModel, table=True):
    __tablename__ = "list_entry"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('watchlist', 'favorite')", name="ck_list_entry_kind"),
        sa.Index("ix_list_entry_user_kind_added", "user_id", "kind", "added_at"),
        # Serves the movie foreign key, so deleting a movie finds its entries without a scan.
        sa.Index("ix_list_entry_movie", "movie_id"),
        TABLE_ARGS,
    )

    user_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    # A plain string rather than a native ENUM: adding a kind needs no ALTER of the column.
    kind: str = Field(sa_column=sa.Column(sa.String(16), primary_key=True))
    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), primary_key=True)
    )
    added_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
