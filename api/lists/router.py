"""Lists endpoints: the signed-in user's watchlist and favorites, and their state for a movie."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentUser, PageDep, SessionDep, SettingsDep
from api.errors import NotFound
from api.lists import queries, service
from api.lists.models import ListKind
from api.lists.schemas import AccountState, ListedMovie
from api.movies.present import item_fields
from api.movies.queries import movie_exists, movies_in_order
from api.pagination import Page, PageParams
from api.reviews.queries import user_rating
from api.settings import Settings
from api.users.models import User

router = APIRouter(tags=["lists"])
MovieId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _listed(row: dict[str, Any], settings: Settings) -> ListedMovie:
    """A list row (a movie's public fields and parts, with added_at) in its public shape."""
    return ListedMovie.model_validate(item_fields(row, settings.IMAGE_BASE_URL))


async def _add(
    session: AsyncSession,
    settings: Settings,
    user: User,
    kind: ListKind,
    movie_id: int,
    response: Response,
) -> ListedMovie:
    assert user.id is not None
    entry, added = await service.add_entry(session, user.id, kind, movie_id)
    response.status_code = status.HTTP_201_CREATED if added else status.HTTP_200_OK
    [movie] = await movies_in_order(session, [movie_id])
    return _listed({**movie, "added_at": entry.added_at}, settings)


async def _page(
    session: AsyncSession, settings: Settings, user: User, kind: ListKind, params: PageParams
) -> Page[ListedMovie]:
    assert user.id is not None
    total, rows = await queries.page_entries(session, user.id, kind, params)
    return Page[ListedMovie].build(params, total, [_listed(row, settings) for row in rows])


async def _remove(session: AsyncSession, user: User, kind: ListKind, movie_id: int) -> Response:
    assert user.id is not None
    await service.remove_entry(session, user.id, kind, movie_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/watchlist/{movie_id:int}", status_code=status.HTTP_201_CREATED)
async def add_to_watchlist(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    movie_id: MovieId,
    response: Response,
) -> ListedMovie:
    """201 when added; 200 when the movie was already on the watchlist."""
    return await _add(session, settings, user, ListKind.WATCHLIST, movie_id, response)


@router.delete("/watchlist/{movie_id:int}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_from_watchlist(
    session: SessionDep, user: CurrentUser, movie_id: MovieId
) -> Response:
    """204 whether or not the movie was on the watchlist (idempotent); 404 for an unknown movie."""
    return await _remove(session, user, ListKind.WATCHLIST, movie_id)


@router.get("/watchlist")
async def list_watchlist(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, params: PageDep
) -> Page[ListedMovie]:
    """The signed-in user's watchlist, most recently added first."""
    return await _page(session, settings, user, ListKind.WATCHLIST, params)


@router.post("/favorites/{movie_id:int}", status_code=status.HTTP_201_CREATED)
async def add_to_favorites(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    movie_id: MovieId,
    response: Response,
) -> ListedMovie:
    """201 when added; 200 when the movie was already a favorite."""
    return await _add(session, settings, user, ListKind.FAVORITE, movie_id, response)


@router.delete("/favorites/{movie_id:int}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_from_favorites(
    session: SessionDep, user: CurrentUser, movie_id: MovieId
) -> Response:
    """204 whether or not the movie was a favorite (idempotent); 404 for an unknown movie."""
    return await _remove(session, user, ListKind.FAVORITE, movie_id)


@router.get("/favorites")
async def list_favorites(
    session: SessionDep, settings: SettingsDep, user: CurrentUser, params: PageDep
) -> Page[ListedMovie]:
    """The signed-in user's favorites, most recently added first."""
    return await _page(session, settings, user, ListKind.FAVORITE, params)


@router.get("/movies/{movie_id:int}/account-state")
async def get_account_state(
    session: SessionDep, user: CurrentUser, movie_id: MovieId
) -> AccountState:
    """The signed-in user's state for one movie: rated (and how), on the watchlist, a favorite."""
    assert user.id is not None
    if not await movie_exists(session, movie_id):
        raise NotFound(f"Movie {movie_id} not found", "movie_not_found")
    kinds = await queries.kinds_holding(session, user.id, movie_id)
    rating = await user_rating(session, user.id, movie_id)
    return AccountState(
        watchlist=ListKind.WATCHLIST in kinds, favorite=ListKind.FAVORITE in kinds, rating=rating
    )
