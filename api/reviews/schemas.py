"""The reviews HTTP contract."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from api.bodies import StrictBody

MAX_CONTENT = 10_000

# Strict: "7" and true are refused rather than read as 7.0 and 1.0.
Rating = Annotated[float, Field(strict=True, ge=0.5, le=10, multiple_of=0.5, allow_inf_nan=False)]
# Stored as written: no stripping, so what the author typed is what readers get.
Content = Annotated[str, StringConstraints(max_length=MAX_CONTENT)]


class ReviewCreate(StrictBody):
    rating: Rating = Field(description="0.5 to 10 in steps of 0.5")
    content: Content | None = None


class ReviewUpdate(StrictBody):
    """Only the fields present change; `"content": null` removes the text."""

    rating: Rating | None = None
    content: Content | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> "ReviewUpdate":
        if not self.model_fields_set:
            raise ValueError("give a rating or content to change")
        if "rating" in self.model_fields_set and self.rating is None:
            raise ValueError("rating cannot be null")
        return self


class ReviewPublic(BaseModel):
    id: int
    movie_id: int
    user_id: int
    display_name: str
    rating: float
    content: str | None
    created_at: datetime
    updated_at: datetime


class UserReview(ReviewPublic):
    """One of the signed-in user's reviews, with the movie it is about."""

    movie_title: str
