"""`/3/account...`: the session's account, its watchlist and favorites (Marquee's own lists,
through api.lists) and its rated movies (its reviews' ratings), oldest first as TMDB lists
them; TV and custom lists are empty. Never served from the shared cache: every answer is the
session user's."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.deps import SessionDep, SettingsDep
from api.lists import service as lists
from api.lists.models import ListEntry, ListKind
from api.movies.models import Movie
from api.movies.present import item_fields
from api.movies.queries import PUBLIC_COLUMNS, with_parts
from api.pagination import PageParams
from api.reviews.models import Review
from api.settings import Settings
from api.tmdb import shapes
from api.tmdb.encoding import tmdb_number
from api.tmdb.errors import AUTH_FAILED, TmdbError, TmdbStatus
from api.tmdb.paging import TmdbPage, TmdbPageDep
from api.tmdb.sessions import SessionUser
from api.users.models import User

router = APIRouter(prefix="/account", tags=["account"])

Page = TmdbPage[dict[str, Any]]
MAX_ID = 2**31 - 1
# moviedb-promise puts the literal placeholder in the path: it means the session's own account.
ACCOUNT_ID_PLACEHOLDER = "{account_id}"

ADDED = TmdbStatus(201, 1, "Success.")
UPDATED = TmdbStatus(201, 12, "The item/record was updated successfully.")
DELETED = TmdbStatus(200, 13, "The item/record was deleted successfully.")


class WriteResult(BaseModel):
    """TMDB's answer to a write: 1 created, 12 updated, 13 deleted."""

    success: bool = True
    status_code: int
    status_message: str


def written(outcome: TmdbStatus) -> JSONResponse:
    body = WriteResult(status_code=outcome.code, status_message=outcome.message)
    return JSONResponse(body.model_dump(), status_code=outcome.http)


class Gravatar(BaseModel):
    hash: str = ""


class TmdbAvatar(BaseModel):
    avatar_path: str | None = None


class Avatar(BaseModel):
    gravatar: Gravatar = Field(default_factory=Gravatar)
    tmdb: TmdbAvatar = Field(default_factory=TmdbAvatar)


class AccountDetails(BaseModel):
    avatar: Avatar = Field(default_factory=Avatar)
    id: int
    include_adult: bool = False
    iso_639_1: str = "en"
    iso_3166_1: str = "US"
    name: str
    username: str


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")  # moviedb-promise adds api_key and session_id

    media_type: Literal["movie"] = Field(description="only movies: Marquee has no TV")
    media_id: int = Field(ge=1, le=MAX_ID)


class WatchlistBody(_Body):
    watchlist: bool


class FavoriteBody(_Body):
    favorite: bool


def _own_account(user: SessionUser, account_id: Annotated[str, Path()]) -> User:
    """The session's user, when the path names its account (its id, or the literal
    `{account_id}`); any other account is TMDB's 401 code 3, so none is revealed to exist."""
    own = account_id == ACCOUNT_ID_PLACEHOLDER or (
        account_id.isascii() and account_id.isdigit() and int(account_id) == user.id
    )
    if not own:
        raise TmdbError(AUTH_FAILED)
    return user


OwnAccount = Annotated[User, Depends(_own_account)]
SortBy = Annotated[
    Literal["created_at.asc", "created_at.desc"],
    Query(description="when added (or rated): oldest first by default, as TMDB"),
]


def _details(user: User) -> AccountDetails:
    assert user.id is not None
    return AccountDetails(id=user.id, name=user.display_name, username=user.email)


@router.get("")
async def get_account(user: SessionUser) -> AccountDetails:
    """The session's account: `id` is what the other account routes take."""
    return _details(user)


@router.get("/{account_id}")
async def get_account_by_id(user: OwnAccount) -> AccountDetails:
    """The session's account, by its id."""
    return _details(user)


@router.post("/{account_id}/watchlist", response_model=WriteResult, status_code=201)
async def set_watchlist(session: SessionDep, user: OwnAccount, body: WatchlistBody) -> JSONResponse:
    """Add a movie to the watchlist (201, code 1; code 12 when it is there already) or take
    it off (200, code 13, also when it was not there)."""
    return written(await _set(session, user, ListKind.WATCHLIST, body.media_id, body.watchlist))


@router.post("/{account_id}/favorite", response_model=WriteResult, status_code=201)
async def set_favorite(session: SessionDep, user: OwnAccount, body: FavoriteBody) -> JSONResponse:
    """Mark a movie as a favorite (201, code 1; code 12 when it is one already) or unmark it
    (200, code 13, also when it was not one)."""
    return written(await _set(session, user, ListKind.FAVORITE, body.media_id, body.favorite))


async def _set(
    session: AsyncSession, user: User, kind: ListKind, movie_id: int, on: bool
) -> TmdbStatus:
    """Through the native lists service: an unknown movie is its NotFound, TMDB's 404 code 34
    under /3."""
    assert user.id is not None
    if not on:
        await lists.remove_entry(session, user.id, kind, movie_id)
        return DELETED
    _, added = await lists.add_entry(session, user.id, kind, movie_id)
    return ADDED if added else UPDATED


@router.get("/{account_id}/watchlist/movies", response_model=Page)
async def list_watchlist(
    session: SessionDep,
    settings: SettingsDep,
    user: OwnAccount,
    params: TmdbPageDep,
    sort_by: SortBy = "created_at.asc",
) -> Page:
    """The watchlist's movies, in the order they were added."""
    return await _list_page(session, settings, user, ListKind.WATCHLIST, params, sort_by)


@router.get("/{account_id}/favorite/movies", response_model=Page)
async def list_favorites(
    session: SessionDep,
    settings: SettingsDep,
    user: OwnAccount,
    params: TmdbPageDep,
    sort_by: SortBy = "created_at.asc",
) -> Page:
    """The favorite movies, in the order they were marked."""
    return await _list_page(session, settings, user, ListKind.FAVORITE, params, sort_by)


async def _list_page(
    session: AsyncSession,
    settings: Settings,
    user: User,
    kind: ListKind,
    params: PageParams,
    sort_by: str,
) -> Page:
    """This page of the user's list `kind`, as TMDB list items."""
    total, rows = await _listed(session, user, kind, params, sort_by)
    base = settings.IMAGE_BASE_URL
    return Page.build(params, total, [shapes.movie_item(item_fields(r, base)) for r in rows])


@router.get("/{account_id}/rated/movies", response_model=Page)
async def list_rated(
    session: SessionDep,
    settings: SettingsDep,
    user: OwnAccount,
    params: TmdbPageDep,
    sort_by: SortBy = "created_at.asc",
) -> Page:
    """The rated movies, in the order they were first rated, each with its `rating`."""
    total, rows = await _rated(session, user, params, sort_by)
    base = settings.IMAGE_BASE_URL
    items = [_rated_item(row, base) for row in rows]
    return Page.build(params, total, items)


def _rated_item(row: dict[str, Any], image_base: str) -> dict[str, Any]:
    rating = row.pop("account_rating")
    return {**shapes.movie_item(item_fields(row, image_base)), "rating": tmdb_number(rating)}


async def _listed(
    session: AsyncSession, user: User, kind: ListKind, params: PageParams, sort_by: str
) -> tuple[int, list[dict[str, Any]]]:
    """How many movies the list holds, and this page of them as native list rows, ordered by
    when each was added (ties by movie id, the same way)."""
    mine = (col(ListEntry.user_id) == user.id, col(ListEntry.kind) == kind.value)
    count = select(func.count()).select_from(ListEntry).where(*mine)
    rows = select(*PUBLIC_COLUMNS).join(ListEntry, col(ListEntry.movie_id) == col(Movie.id))
    order = [col(ListEntry.added_at), col(ListEntry.movie_id)]
    return await _paged(session, count, rows.where(*mine), order, params, sort_by)


async def _rated(
    session: AsyncSession, user: User, params: PageParams, sort_by: str
) -> tuple[int, list[dict[str, Any]]]:
    """How many movies the user rated, and this page of them with the rating, ordered by when
    each review was written (ties by review id)."""
    mine = col(Review.user_id) == user.id
    count = select(func.count()).select_from(Review).where(mine)
    rows = select(*PUBLIC_COLUMNS, col(Review.rating).label("account_rating"))
    rows = rows.join(Review, col(Review.movie_id) == col(Movie.id)).where(mine)
    order = [col(Review.created_at), col(Review.id)]
    return await _paged(session, count, rows, order, params, sort_by)


async def _paged(
    session: AsyncSession,
    count: Select[int],
    rows: Select[Any],
    order: list[Any],
    params: PageParams,
    sort_by: str,
) -> tuple[int, list[dict[str, Any]]]:
    """The count, and the page of rows in `order` (every column ascending, or every one
    descending for `created_at.desc`) with their list item's parts."""
    total = (await session.execute(count)).scalar_one()
    if params.offset >= total:
        return total, []
    descending = sort_by == "created_at.desc"
    ordered = rows.order_by(*(c.desc() if descending else c.asc() for c in order))
    page = ordered.offset(params.offset).limit(params.per_page)
    found = [row._asdict() for row in await session.execute(page)]
    return total, await with_parts(session, found)


@router.get("/{account_id}/lists", response_model=Page)
@router.get("/{account_id}/favorite/tv", response_model=Page)
@router.get("/{account_id}/watchlist/tv", response_model=Page)
@router.get("/{account_id}/rated/tv", response_model=Page)
@router.get("/{account_id}/rated/tv/episodes", response_model=Page)
async def list_nothing(_: OwnAccount, params: TmdbPageDep) -> Page:
    """Marquee has no custom lists and no TV: always an empty page."""
    return Page.build(params, 0, [])
