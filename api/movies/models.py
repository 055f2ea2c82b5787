"""Catalog tables: movie, genre, movie_genre, cast_credit, movie_director."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from api.people.models import Person
from api.types import TABLE_ARGS, BinaryTitle, Double, UTCDateTime, utcnow
from indexer.sorting import title_sort_key

RELEASE_SORT = "coalesce(release_date, '9999-12-31')"


class Genre(SQLModel, table=True):
    __tablename__ = "genre"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_genre_name"), TABLE_ARGS)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)


class MovieGenre(SQLModel, table=True):
    __tablename__ = "movie_genre"
    __table_args__ = (sa.Index("ix_movie_genre_genre", "genre_id", "movie_id"), TABLE_ARGS)

    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), primary_key=True)
    )
    genre_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("genre.id", ondelete="CASCADE"), primary_key=True)
    )


class CastCredit(SQLModel, table=True):
    __tablename__ = "cast_credit"
    __table_args__ = (
        sa.Index("ix_cast_credit_movie_order", "movie_id", "billing_order"),
        sa.Index("ix_cast_credit_person", "person_id", "movie_id"),
        TABLE_ARGS,
    )

    id: int | None = Field(default=None, primary_key=True)
    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), nullable=False)
    )
    person_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    )
    character: str | None = Field(default=None, max_length=500)
    billing_order: int = Field(default=0)

    person: Person = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class MovieDirector(SQLModel, table=True):
    __tablename__ = "movie_director"
    __table_args__ = (sa.Index("ix_movie_director_person", "person_id"), TABLE_ARGS)

    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), primary_key=True)
    )
    person_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(default=0)

    person: Person = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Movie(SQLModel, table=True):
    __tablename__ = "movie"
    __table_args__ = (
        sa.Index("ix_movie_popularity", "popularity"),
        sa.Index("ix_movie_vote_average", "vote_average"),
        sa.Index("ix_movie_vote_count", "vote_count"),
        sa.Index("ix_movie_release_date", "release_date"),
        sa.Index("ix_movie_release_sort", "release_sort"),
        sa.Index("ix_movie_language_popularity", "original_language", "popularity"),
        sa.Index("ix_movie_sort_title", "sort_title"),
        TABLE_ARGS,
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    original_title: str = Field(max_length=300)
    # The title folded for ordering (see indexer.title_sort_key), compared byte by byte so the
    # database and the search index sort titles identically.
    sort_title: str = Field(default="", sa_column=sa.Column(BinaryTitle, nullable=False))
    overview: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    tagline: str | None = Field(default=None, max_length=500)
    release_date: date | None = None
    # Undated movies last when sorting by date ascending, through an index (as the search
    # index orders them): the date, or 9999-12-31 when there is none.
    release_sort: date | None = Field(
        default=None, sa_column=sa.Column(sa.Date, sa.Computed(RELEASE_SORT, persisted=True))
    )
    original_language: str = Field(default="en", max_length=2)
    runtime: int | None = None
    status: str = Field(default="Released", max_length=32)
    poster_path: str | None = Field(default=None, max_length=255)
    backdrop_path: str | None = Field(default=None, max_length=255)
    popularity: float = Field(default=0.0, sa_column=sa.Column(Double, nullable=False))
    # Votes as imported from TMDB, and users' ratings kept as a running sum and count;
    # vote_average/vote_count combine both and are maintained by one SQL statement.
    base_vote_average: float = Field(default=0.0, sa_column=sa.Column(Double, nullable=False))
    base_vote_count: int = Field(default=0)
    user_rating_sum: float = Field(default=0.0, sa_column=sa.Column(Double, nullable=False))
    user_rating_count: int = Field(default=0)
    vote_average: float = Field(default=0.0, sa_column=sa.Column(Double, nullable=False))
    vote_count: int = Field(default=0)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )

    genres: list[Genre] = Relationship(
        link_model=MovieGenre, sa_relationship_kwargs={"lazy": "raise", "order_by": "Genre.name"}
    )
    cast_credits: list[CastCredit] = Relationship(
        sa_relationship_kwargs={
            "lazy": "raise",
            "order_by": "[CastCredit.billing_order, CastCredit.id]",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
        }
    )
    director_links: list[MovieDirector] = Relationship(
        sa_relationship_kwargs={
            "lazy": "raise",
            "order_by": "MovieDirector.position",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
        }
    )


@sa.event.listens_for(Movie, "before_insert")
@sa.event.listens_for(Movie, "before_update")
def _fold_title(_mapper: object, _connection: object, movie: Movie) -> None:
    # Every ORM write keeps sort_title in step with title (bulk inserts set it themselves).
    movie.sort_title = title_sort_key(movie.title)
