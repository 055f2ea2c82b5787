"""Reviews endpoints: write, edit and remove yours; read a movie's and your own."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import CurrentUser, PageDep, SessionDep
from api.errors import NotFound
from api.movies.queries import movie_exists
from api.pagination import Page
from api.reviews import queries, service
from api.reviews.models import Review
from api.reviews.schemas import ReviewCreate, ReviewPublic, ReviewUpdate, UserReview

router = APIRouter(tags=["reviews"])
MovieId = Annotated[int, Path(ge=1, le=2**31 - 1)]
UserIdQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="admins: whose review")]


def _public(review: Review, display_name: str) -> ReviewPublic:
    return ReviewPublic.model_validate({**review.model_dump(), "display_name": display_name})


@router.post("/reviews/{movie_id:int}", status_code=status.HTTP_201_CREATED)
async def create_review(
    session: SessionDep, user: CurrentUser, movie_id: MovieId, body: ReviewCreate
) -> ReviewPublic:
    """Rate (0.5-10) and optionally review a movie; one review per user and movie."""
    review = await service.create_review(session, user, movie_id, body)
    return _public(review, user.display_name)


@router.put("/reviews/{movie_id:int}")
async def update_review(
    session: SessionDep, user: CurrentUser, movie_id: MovieId, body: ReviewUpdate
) -> ReviewPublic:
    """Change your review of a movie (admins: anyone's, with user_id)."""
    review = await service.update_review(session, user, movie_id, body)
    return _public(review, user.display_name)


@router.delete("/reviews/{movie_id:int}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_review(
    session: SessionDep, user: CurrentUser, movie_id: MovieId, user_id: UserIdQuery = None
) -> Response:
    """Remove your review of a movie (admins: anyone's, with user_id); the rating leaves the
    average."""
    await service.delete_review(session, user, movie_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/movies/{movie_id:int}/reviews")
async def list_movie_reviews(
    session: SessionDep, movie_id: MovieId, params: PageDep
) -> Page[ReviewPublic]:
    """A movie's reviews, newest first."""
    if not await movie_exists(session, movie_id):
        raise NotFound(f"Movie {movie_id} not found", "movie_not_found")
    total, rows = await queries.page_movie_reviews(session, movie_id, params)
    return Page[ReviewPublic].build(params, total, [_public(r, name) for r, name in rows])


@router.get("/users/me/reviews")
async def list_my_reviews(
    session: SessionDep, user: CurrentUser, params: PageDep
) -> Page[UserReview]:
    """The signed-in user's reviews, newest first."""
    assert user.id is not None
    total, rows = await queries.page_user_reviews(session, user.id, params)
    items = [
        UserReview.model_validate(
            {**r.model_dump(), "display_name": user.display_name, "movie_title": title}
        )
        for r, title in rows
    ]
    return Page[UserReview].build(params, total, items)
