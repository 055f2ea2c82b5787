"""The lists HTTP contract: listed movies and the signed-in user's state for a movie."""

from datetime import datetime

from pydantic import BaseModel

from api.movies.schemas import MovieListItem


class ListedMovie(MovieListItem):
    """A movie on a watchlist or favorites, with when it was added."""

    added_at: datetime


class AccountState(BaseModel):
    watchlist: bool
    favorite: bool
    rating: float | None
