"""The movie HTTP contract: what clients send and what they get back."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    RootModel,
    StringConstraints,
    field_validator,
    model_validator,
)

from api.bodies import StrictBody

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
# pydantic checks the pattern before lower-casing: accept either case, store lower case.
Language = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z]{2}$")
]
ImagePath = Annotated[str, StringConstraints(max_length=255, pattern=r"^/[A-Za-z0-9._-]+$")]
GenreName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Homepage = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https?://[^\s]+$")
]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Status = Literal["Rumored", "Planned", "In Production", "Post Production", "Released", "Canceled"]

MIN_DATE = date(1870, 1, 1)
MAX_DATE = date(2100, 12, 31)


class PersonRef(StrictBody):
    """A person by TMDB/catalog id, or by name (an existing person of that name is reused)."""

    person_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    name: PersonName | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "PersonRef":
        if self.person_id is None and self.name is None:
            raise ValueError("give a person_id or a name")
        return self


class CastIn(PersonRef):
    character: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = (
        None
    )
    order: int | None = Field(default=None, ge=0, le=10_000)


class _MovieFields(StrictBody):
    original_title: Title | None = None
    overview: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)] | None = (
        None
    )
    tagline: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    release_date: date | None = None
    original_language: Language | None = None
    runtime: int | None = Field(default=None, ge=0, le=1_500)
    status: Status | None = None
    poster_path: ImagePath | None = None
    backdrop_path: ImagePath | None = None
    popularity: float | None = Field(default=None, ge=0, le=1_000_000)
    budget: int | None = Field(default=None, ge=1, le=10**12, description="US dollars")
    revenue: int | None = Field(default=None, ge=1, le=10**13, description="US dollars")
    homepage: Homepage | None = None
    genres: list[GenreName | int] | None = Field(default=None, max_length=20)
    cast: list[CastIn] | None = Field(default=None, max_length=500)
    directors: list[PersonRef] | None = Field(default=None, max_length=20)

    @field_validator("release_date")
    @classmethod
    def _plausible_date(cls, value: date | None) -> date | None:
        if value is not None and not MIN_DATE <= value <= MAX_DATE:
            raise ValueError(f"release_date must be between {MIN_DATE} and {MAX_DATE}")
        return value

    @field_validator("genres")
    @classmethod
    def _genre_ids_positive(cls, value: list[str | int] | None) -> list[str | int] | None:
        for item in value or []:
            if isinstance(item, int) and item < 1:
                raise ValueError("genre ids are positive integers")
        return value

    @field_validator("genres")
    @classmethod
    def _genre_names_filterable(cls, value: list[str | int] | None) -> list[str | int] | None:
        # The genre filter reads "," as all-of and "|" as any-of: such a name could never match.
        for item in value or []:
            if isinstance(item, str) and ("," in item or "|" in item):
                raise ValueError("genre names cannot contain ',' or '|' (filter separators)")
        return value


class MovieCreate(_MovieFields):
    title: Title


class MovieUpdate(_MovieFields):
    """Every field optional: only those present in the body change."""

    title: Title | None = None

    @model_validator(mode="after")
    def _no_null_required(self) -> "MovieUpdate":
        for name in ("title", "original_title", "original_language", "status", "overview"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        for name in ("popularity", "genres", "cast", "directors"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class GenrePublic(BaseModel):
    id: int
    name: str


class GenreWithCount(GenrePublic):
    movie_count: int


class GenreList(RootModel[list[GenreWithCount]]):
    pass


class CastPublic(BaseModel):
    id: int
    name: str
    character: str | None
    order: int
    profile_path: str | None


class PersonPublic(BaseModel):
    id: int
    name: str


class NamedPublic(BaseModel):
    """A keyword or a production company: TMDB's id and name."""

    id: int
    name: str


class CountryPublic(BaseModel):
    iso_3166_1: str
    name: str


class LanguagePublic(BaseModel):
    iso_639_1: str
    name: str


class MovieListItem(BaseModel):
    """A movie in a list: its details less cast, directors and crew (API.md)."""

    id: int
    title: str
    original_title: str
    overview: str
    tagline: str | None
    release_date: date | None
    original_language: str
    runtime: int | None
    status: str
    genres: list[GenrePublic]
    poster_path: str | None
    backdrop_path: str | None
    poster_url: str | None
    budget: int | None
    revenue: int | None
    homepage: str | None
    popularity: float
    vote_average: float
    vote_count: int
    created_at: datetime
    updated_at: datetime
    keywords: list[NamedPublic]
    production_companies: list[NamedPublic]
    production_countries: list[CountryPublic]
    spoken_languages: list[LanguagePublic]


class CrewPublic(BaseModel):
    id: int
    name: str
    department: str
    job: str


class MoviePublic(MovieListItem):
    cast: list[CastPublic]
    directors: list[PersonPublic]
    crew: list[CrewPublic]
