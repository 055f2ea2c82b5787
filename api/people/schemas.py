"""The people HTTP contract: a person with their movie credits, people in lists, edits."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from api.bodies import StrictBody
from api.movies.schemas import ImagePath, MovieListItem, PersonName

Department = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class CastCreditPublic(MovieListItem):
    character: str | None
    order: int


class CrewCreditPublic(MovieListItem):
    department: str
    job: str


class MovieCredits(BaseModel):
    cast: list[CastCreditPublic]
    crew: list[CrewCreditPublic]


class PersonBase(BaseModel):
    id: int
    name: str
    gender: int = Field(description="TMDB's codes: 0 not set, 1 female, 2 male, 3 non-binary")
    profile_path: str | None
    known_for_department: str | None
    popularity: float = Field(description="derived from their movies' (README, People)")


class PersonDetails(PersonBase):
    movie_credits: MovieCredits


class KnownFor(BaseModel):
    id: int
    title: str
    poster_path: str | None
    release_date: date | None


class PersonListItem(PersonBase):
    known_for: list[KnownFor]


class PersonUpdate(StrictBody):
    """Only the fields present change."""

    name: PersonName | None = None
    gender: int | None = Field(default=None, ge=0, le=3)
    profile_path: ImagePath | None = None
    known_for_department: Department | None = None

    @model_validator(mode="after")
    def _name_not_null(self) -> "PersonUpdate":
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        if "gender" in self.model_fields_set and self.gender is None:
            raise ValueError("gender cannot be null")
        return self
