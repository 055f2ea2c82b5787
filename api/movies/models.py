"""Catalog tables: movie, genre, keyword, company and their links, cast and crew credits,
directors, production countries and spoken languages."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from api.people.models import Person
from api.types import TABLE_ARGS, BinaryTitle, Double, UTCDateTime, utcnow
from indexer.sorting import title_sort_key

RELEASE_SORT = "coalesce(release_date, '9999-12-31')"
# Unknown money and runtimes last when sorting ascending, as for dates (and the search index).
REVENUE_SORT = "coalesce(revenue, 9223372036854775807)"
RUNTIME_SORT = "coalesce(runtime, 2147483647)"


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
        # Covers what a person's derived fields read (migration 0006).
        sa.Index("ix_cast_credit_person", "person_id", "movie_id", "billing_order"),
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


class Keyword(SQLModel, table=True):
    __tablename__ = "keyword"
    __table_args__ = (sa.Index("ix_keyword_name", "name"), TABLE_ARGS)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)


class MovieKeyword(SQLModel, table=True):
    __tablename__ = "movie_keyword"
    __table_args__ = (sa.Index("ix_movie_keyword_keyword", "keyword_id", "movie_id"), TABLE_ARGS)

    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), primary_key=True)
    )
    keyword_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("keyword.id", ondelete="CASCADE"), primary_key=True)
    )


class Company(SQLModel, table=True):
    __tablename__ = "company"
    __table_args__ = (sa.Index("ix_company_name", "name"), TABLE_ARGS)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)


class MovieCompany(SQLModel, table=True):
    __tablename__ = "movie_company"
    __table_args__ = (sa.Index("ix_movie_company_company", "company_id", "movie_id"), TABLE_ARGS)

    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), primary_key=True)
    )
    company_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("company.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(default=0)


class MovieCountry(SQLModel, table=True):
    """A production country, as TMDB names it (ISO 3166-1 code and English name)."""

    __tablename__ = "movie_country"
    __table_args__ = (TABLE_ARGS,)

    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), primary_key=True)
    )
    iso_3166_1: str = Field(sa_column=sa.Column(sa.String(2), primary_key=True))
    name: str = Field(max_length=100)
    position: int = Field(default=0)


class MovieLanguage(SQLModel, table=True):
    """A spoken language, as TMDB names it (ISO 639-1 code and its own name)."""

    __tablename__ = "movie_language"
    __table_args__ = (TABLE_ARGS,)

    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), primary_key=True)
    )
    iso_639_1: str = Field(sa_column=sa.Column(sa.String(2), primary_key=True))
    name: str = Field(max_length=100)
    position: int = Field(default=0)


class CrewCredit(SQLModel, table=True):
    """One crew job on one movie (a person may hold several, e.g. writer and director)."""

    __tablename__ = "crew_credit"
    __table_args__ = (
        sa.Index("ix_crew_credit_movie", "movie_id", "position"),
        sa.Index("ix_crew_credit_person", "person_id", "movie_id", "job", "department"),
        TABLE_ARGS,
    )

    id: int | None = Field(default=None, primary_key=True)
    movie_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("movie.id", ondelete="CASCADE"), nullable=False)
    )
    person_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    )
    department: str = Field(max_length=64)
    job: str = Field(max_length=100)
    position: int = Field(default=0)


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
        sa.Index("ix_movie_revenue", "revenue"),
        sa.Index("ix_movie_runtime", "runtime"),
        sa.Index("ix_movie_revenue_sort", "revenue_sort"),
        sa.Index("ix_movie_runtime_sort", "runtime_sort"),
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
    runtime_sort: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, sa.Computed(RUNTIME_SORT, persisted=True))
    )
    status: str = Field(default="Released", max_length=32)
    poster_path: str | None = Field(default=None, max_length=255)
    backdrop_path: str | None = Field(default=None, max_length=255)
    # US dollars as TMDB gives them; TMDB's 0 (unknown) is stored as null.
    budget: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))
    revenue: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))
    revenue_sort: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.BigInteger, sa.Computed(REVENUE_SORT, persisted=True)),
    )
    homepage: str | None = Field(default=None, max_length=500)
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
