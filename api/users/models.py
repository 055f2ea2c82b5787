"""The account tables: users, their API keys and their revoked sign-in tokens."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.types import TABLE_ARGS, UTCDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "user"
    __table_args__ = (sa.UniqueConstraint("email", name="uq_user_email"), TABLE_ARGS)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    password_hash: str = Field(max_length=255)
    display_name: str = Field(max_length=100)
    is_admin: bool = Field(default=False)
    # Carried by each access token; raising it (a password change) ends every token issued
    # before, with no row per token.
    token_version: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )


class ApiKey(SQLModel, table=True):
    """An application's key acting for its user on the TMDB-compatible layer (/3): only the
    SHA-256 of the key is kept, and a revoked key stays as a record of what existed."""

    __tablename__ = "api_key"
    __table_args__ = (
        sa.UniqueConstraint("key_hash", name="uq_api_key_key_hash"),
        sa.Index("ix_api_key_user_created", "user_id", "created_at"),
        TABLE_ARGS,
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    )
    name: str = Field(max_length=100)
    key_prefix: str = Field(sa_column=sa.Column(sa.CHAR(8), nullable=False))
    key_hash: str = Field(sa_column=sa.Column(sa.CHAR(64), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    last_used_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )


class RevokedToken(SQLModel, table=True):
    """A signed-out access token (its `jti`): refused until it expires, then purged."""

    __tablename__ = "revoked_token"
    __table_args__ = (
        sa.Index("ix_revoked_token_expires", "expires_at"),
        sa.Index("ix_revoked_token_user", "user_id"),
        TABLE_ARGS,
    )

    token_id: str = Field(sa_column=sa.Column(sa.CHAR(32), primary_key=True))
    user_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    )
    revoked_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
