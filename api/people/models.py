"""The person table: one row per actor or director, keyed by TMDB person id when imported."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.types import TABLE_ARGS


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (sa.Index("ix_person_name", "name"), TABLE_ARGS)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    profile_path: str | None = Field(default=None, max_length=255)
