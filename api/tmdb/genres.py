"""`/3/genre/movie/list` (Marquee's genres, with TMDB's ids where imported: 28 is Action) and
`/3/genre/tv/list` (Marquee has no TV: an empty list keeps generic clients quiet)."""

from fastapi import APIRouter, Request, Response

from api.cache import CATALOG
from api.deps import SessionDep
from api.tmdb import queries
from api.tmdb.cached import cached_answer
from api.tmdb.schemas import Genre, GenreList

router = APIRouter(tags=["genres"])


@router.get("/genre/movie/list", response_model=GenreList)
async def list_movie_genres(request: Request, session: SessionDep) -> Response:
    """Every movie genre, by name: clients resolve `genre_ids` through this list."""

    async def build() -> GenreList:
        rows = await queries.movie_genres(session)
        return GenreList(genres=[Genre(id=gid, name=name) for gid, name in rows])

    return await cached_answer(request, [CATALOG], build)


@router.get("/genre/tv/list")
async def list_tv_genres() -> GenreList:
    """No TV in Marquee: always empty."""
    return GenreList(genres=[])
