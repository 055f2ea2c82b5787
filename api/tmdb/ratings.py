"""`/3/movie/{id}/rating` and `/account_states`: a /3 rating is the session user's native
review rating (api.reviews' service, so `vote_average`/`vote_count`, the cache and the search
outbox move exactly as with a native rating); `account_states` also answers the movie details'
`append_to_response=account_states`."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep
from api.errors import Conflict, NotFound
from api.lists import queries as list_queries
from api.lists.models import ListKind
from api.movies.queries import movie_exists
from api.reviews import queries as review_queries
from api.reviews import service as reviews
from api.reviews.schemas import ReviewCreate, ReviewUpdate
from api.tmdb.account import ADDED, DELETED, UPDATED, WriteResult, written
from api.tmdb.encoding import tmdb_number
from api.tmdb.errors import NOT_FOUND, VALIDATION_FAILED, TmdbError, TmdbStatus
from api.tmdb.sessions import SessionUser
from api.users.models import User

router = APIRouter(tags=["ratings"])

MAX_ID = 2**31 - 1
TOO_HIGH = TmdbStatus(400, 18, "Value too high: Value must be less than, or equal to 10.0.")
TOO_LOW = TmdbStatus(400, 18, "Value too low: Value must be greater than 0.0.")
NOT_A_STEP = TmdbStatus(400, 18, "Value invalid: Values must be a multiple of 0.50.")


def _movie_id(movie_id: Annotated[int, Path(description="TMDB's movie id")]) -> int:
    """An id no movie can have is TMDB's 404 code 34, as an unknown one is."""
    if not 1 <= movie_id <= MAX_ID:
        raise TmdbError(NOT_FOUND)
    return movie_id


MovieId = Annotated[int, Depends(_movie_id)]


class RatingBody(BaseModel):
    model_config = ConfigDict(extra="ignore")  # moviedb-promise adds api_key and session_id

    value: Any = None


class Rated(BaseModel):
    value: float | int


class AccountStates(BaseModel):
    id: int
    favorite: bool
    rated: Rated | Literal[False]
    watchlist: bool


def rating_value(value: object) -> float:
    """A rating as TMDB takes it: a number (an integer too, or a numeric string) from 0.5 to
    10 in steps of 0.5; anything else is TMDB's 400 code 18 with TMDB's words."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise TmdbError(VALIDATION_FAILED) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TmdbError(VALIDATION_FAILED)
    if value > 10:
        raise TmdbError(TOO_HIGH)
    if value <= 0:
        raise TmdbError(TOO_LOW)
    if not float(value * 2).is_integer():  # NaN included (Python's JSON reads NaN)
        raise TmdbError(NOT_A_STEP)
    return float(value)


@router.post("/movie/{movie_id:int}/rating", response_model=WriteResult, status_code=201)
async def rate_movie(
    session: SessionDep, user: SessionUser, movie_id: MovieId, body: RatingBody
) -> JSONResponse:
    """Rate a movie (0.5 to 10 in steps of 0.5): the session user's review rating, created
    (201, code 1) or changed (201, code 12; the review's text stays)."""
    return written(await upsert_rating(session, user, movie_id, rating_value(body.value)))


async def upsert_rating(
    session: AsyncSession, user: User, movie_id: int, rating: float
) -> TmdbStatus:
    """Create the user's review with this rating, or change the rating of the one there is,
    through the native service (which locks the movie row first)."""
    try:
        await reviews.create_review(session, user, movie_id, ReviewCreate(rating=rating))
        return ADDED
    except Conflict as exc:
        if exc.code != "review_exists":
            raise
    await reviews.update_review(session, user, movie_id, ReviewUpdate(rating=rating))
    return UPDATED


@router.delete("/movie/{movie_id:int}/rating", response_model=WriteResult)
async def delete_rating(
    session: SessionDep,
    user: SessionUser,
    movie_id: MovieId,
    body: Annotated[Any, Body(description="ignored (tmdbsimple sends one)")] = None,
) -> JSONResponse:
    """Remove the session user's rating: in Marquee that deletes the user's review of the
    movie, its text included. 200, code 13, also when the movie was not rated."""
    try:
        await reviews.delete_review(session, user, movie_id)
    except NotFound as exc:
        if exc.code != "review_not_found":
            raise  # an unknown movie: TMDB's 404 code 34
    return written(DELETED)


@router.get("/movie/{movie_id:int}/account_states")
async def get_account_states(
    session: SessionDep, user: SessionUser, movie_id: MovieId
) -> AccountStates:
    """The session user's rating of the movie (`false` when unrated), and whether it is on
    the watchlist and a favorite."""
    if not await movie_exists(session, movie_id):
        raise TmdbError(NOT_FOUND)
    assert user.id is not None
    return AccountStates.model_validate(await account_states(session, user.id, movie_id))


async def account_states(session: AsyncSession, user_id: int, movie_id: int) -> dict[str, Any]:
    """TMDB's `account_states` of a movie the caller knows exists, as JSON-ready values: what
    `append_to_response=account_states` adds with a session (never cache it: it is the user's)."""
    kinds = await list_queries.kinds_holding(session, user_id, movie_id)
    rating = await review_queries.user_rating(session, user_id, movie_id)
    return {
        "id": movie_id,
        "favorite": ListKind.FAVORITE in kinds,
        "rated": {"value": tmdb_number(rating)} if rating is not None else False,
        "watchlist": ListKind.WATCHLIST in kinds,
    }
