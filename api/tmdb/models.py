"""The /3 layer's user credentials, TMDB's login flow: request tokens and sessions, each kept
only as the SHA-256 of its secret and tied to the API key (the app) that asked for it."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.types import TABLE_ARGS, UTCDateTime, utcnow


def _owner(table: str, nullable: bool = False) -> sa.Column[int]:
    """A foreign key that goes with its row: deleting the account or the key deletes these."""
    return sa.Column(sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=nullable)


class TmdbRequestToken(SQLModel, table=True):
    """A request token of `GET /3/authentication/token/new`: approved by a login (its user is
    set then), used once by `session/new` (which deletes it), dead after `expires_at`."""

    __tablename__ = "tmdb_request_token"
    __table_args__ = (
        sa.UniqueConstraint("token_hash", name="uq_tmdb_request_token_token_hash"),
        # Expired tokens are purged by range; the foreign keys need indexes of their own.
        sa.Index("ix_tmdb_request_token_expires", "expires_at"),
        sa.Index("ix_tmdb_request_token_api_key", "api_key_id"),
        sa.Index("ix_tmdb_request_token_user", "user_id"),
        TABLE_ARGS,
    )

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=sa.Column(sa.CHAR(64), nullable=False))
    api_key_id: int = Field(sa_column=_owner("api_key"))
    user_id: int | None = Field(default=None, sa_column=_owner("user", nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))


class TmdbSession(SQLModel, table=True):
    """A `session_id`: acts as its user on /3, with the key it was made with only; a revoked
    session stays as a record of what existed."""

    __tablename__ = "tmdb_session"
    __table_args__ = (
        sa.UniqueConstraint("session_hash", name="uq_tmdb_session_session_hash"),
        sa.Index("ix_tmdb_session_user_created", "user_id", "created_at"),
        sa.Index("ix_tmdb_session_api_key", "api_key_id"),
        TABLE_ARGS,
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_owner("user"))
    api_key_id: int = Field(sa_column=_owner("api_key"))
    session_hash: str = Field(sa_column=sa.Column(sa.CHAR(64), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    last_used_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
