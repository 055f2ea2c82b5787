"""The person table: one row per actor or crew member, keyed by TMDB person id when imported."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.types import TABLE_ARGS, Double


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (
        sa.Index("ix_person_name", "name"),
        sa.Index("ix_person_popularity", "popularity"),
        TABLE_ARGS,
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    profile_path: str | None = Field(default=None, max_length=255)
    # TMDB's codes: 0 not set, 1 female, 2 male, 3 non-binary.
    gender: int = Field(default=0, sa_column=sa.Column(sa.SmallInteger, nullable=False))
    known_for_department: str | None = Field(default=None, max_length=64)
    # Derived from their movies' (see api.people.service); kept current as movies change.
    popularity: float = Field(default=0.0, sa_column=sa.Column(Double, nullable=False))
