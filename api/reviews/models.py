"""The review table: one rating (and optional text) per user and movie."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.types import TABLE_ARGS, Double, UTCDateTime, utcnow


class Review(SQLModel, table=True):
    __tablename__ = "review"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "movie_id", name="uq_review_user_movie"),
        sa.Index("ix_review_movie_created", "movie_id", "created_at", "id"),
        sa.Index("ix_review_user_created", "user_id", "created_at", "id"),
        TABLE_ARGS,
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    )
    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), nullable=False)
    )
    rating: float = Field(sa_column=sa.Column(Double, nullable=False))
    content: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
