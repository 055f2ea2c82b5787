"""Activity and trending tables: movie_activity (what users did) and trending_score."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.types import TABLE_ARGS, Double, UTCDateTime, utcnow


class ActivityKind(StrEnum):
    RATING = "rating"
    REVIEW = "review"
    WATCHLIST = "watchlist"
    FAVORITE = "favorite"


class MovieActivity(SQLModel, table=True):
    __tablename__ = "movie_activity"
    __table_args__ = (
        sa.Index("ix_movie_activity_created_movie", "created_at", "movie_id"),
        # These two serve the foreign keys (cascading deletes of a movie or a user).
        sa.Index("ix_movie_activity_movie", "movie_id"),
        sa.Index("ix_movie_activity_user", "user_id"),
        TABLE_ARGS,
    )

    id: int | None = Field(default=None, primary_key=True)
    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=True),
    )
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )


class TrendingScore(SQLModel, table=True):
    __tablename__ = "trending_score"
    __table_args__ = (
        sa.Index("ix_trending_score_window_score", "window", "score"),
        sa.Index("ix_trending_score_movie", "movie_id"),
        TABLE_ARGS,
    )

    window: str = Field(sa_column=sa.Column(sa.String(8), primary_key=True))
    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), primary_key=True)
    )
    score: float = Field(sa_column=sa.Column(Double, nullable=False))
    computed_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
