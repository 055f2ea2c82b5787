"""The user table."""

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
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
