"""`/3/movie/{id}` with `append_to_response`, its standalone sub-resources (credits, keywords,
images, videos, reviews, similar, recommendations, ...), the legacy paths tmdbsimple still calls,
and `/3/movie/latest`: the native reads (api.movies, api.reviews), reshaped."""

from collections.abc import Awaitable, Callable
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.cache import CATALOG, movie_scope
from api.deps import SessionDep, SettingsDep
from api.tmdb import movie_queries, shapes
from api.tmdb.cached import cached_answer
from api.tmdb.errors import NOT_FOUND, TmdbError
from api.tmdb.movie_appends import APPENDS, Append, MovieContext, requested
from api.tmdb.paging import TmdbPageDep

router = APIRouter(tags=["movies"])

MAX_ID = 2**31 - 1


def _movie_id(movie_id: Annotated[int, Path(description="TMDB's movie id")]) -> int:
    """Any id beyond the catalog's range is simply not there: TMDB's 404, not a 422."""
    if not 1 <= movie_id <= MAX_ID:
        raise TmdbError(NOT_FOUND)
    return movie_id


MovieId = Annotated[int, Depends(_movie_id)]
AppendQuery = Annotated[
    str | None,
    Query(description="comma-separated sub-resources (at most 20); unknown names are ignored"),
]


async def _answer(
    ctx: MovieContext, appends: list[Append], build: Callable[[], Awaitable[bytes]]
) -> Response:
    """Through the cache when every part of the answer is cacheable (under the movie's scope
    and the parts'), else built now."""
    if not all(append.cacheable for append in appends):
        return Response(content=await build(), media_type="application/json")
    scopes = [movie_scope(ctx.movie_id)]
    scopes += [scope for append in appends for scope in append.scopes if scope not in scopes]
    return await cached_answer(ctx.request, scopes, build)


@router.get("/movie/{movie_id:int}")
async def get_movie(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    movie_id: MovieId,
    append_to_response: AppendQuery = None,
) -> Response:
    """A movie's details (budget, revenue, companies, countries, languages), with each
    sub-resource named in `append_to_response` under its own name."""
    names = [name for name in requested(append_to_response) if name in APPENDS]
    ctx = MovieContext(request, session, settings, movie_id)

    async def build() -> bytes:
        body = shapes.movie_details(await ctx.movie())
        for name in names:
            part = await APPENDS[name].build(ctx)
            if part is not None:
                body[name] = part
        return orjson.dumps(body)

    return await _answer(ctx, [APPENDS[name] for name in names], build)


async def _sub_resource(ctx: MovieContext, name: str) -> Response:
    """One sub-resource on its own, with the movie's `id` first (spec 3.5)."""
    append = APPENDS[name]

    async def build() -> bytes:
        await ctx.require()
        return orjson.dumps({"id": ctx.movie_id, **(await append.build(ctx) or {})})

    return await _answer(ctx, [append], build)


def _sub_route(path: str, summary: str, name: str | None = None) -> None:
    """GET /movie/{id}/<path>, answering the append `name` (by default, the path's)."""
    part = name or path

    async def get_sub_resource(
        request: Request, session: SessionDep, settings: SettingsDep, movie_id: MovieId
    ) -> Response:
        ctx = MovieContext(request, session, settings, movie_id)
        return await _sub_resource(ctx, part)

    _add_route(path, get_sub_resource, summary, f"get_movie_{path.replace('/', '_')}")


def _paged_sub_route(path: str, summary: str, name: str | None = None) -> None:
    """GET /movie/{id}/<path>?page=, answering the append `name` one page at a time."""
    part = name or path

    async def list_sub_resource(
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        movie_id: MovieId,
        params: TmdbPageDep,
    ) -> Response:
        ctx = MovieContext(request, session, settings, movie_id, params)
        return await _sub_resource(ctx, part)

    _add_route(path, list_sub_resource, summary, f"list_movie_{path}")


def _add_route(
    path: str, endpoint: Callable[..., Awaitable[Response]], summary: str, name: str
) -> None:
    """GET /movie/{id}/<path>, answered by `endpoint`."""
    router.add_api_route(
        f"/movie/{{movie_id:int}}/{path}",
        endpoint,
        methods=["GET"],
        description=summary,
        name=name,
    )


_sub_route("credits", "Cast in billing order and the full crew, each job with its department.")
_sub_route("keywords", "The movie's keywords.")
_sub_route("images", "The movie's poster and backdrop.")
_sub_route("videos", "Videos: Marquee keeps none.")
_sub_route("release_dates", "The movie's release, as a US theatrical release.")
_sub_route("releases", "Legacy form of release_dates (tmdbsimple's `releases()`).")
_sub_route("external_ids", "Other sites' ids: Marquee keeps none.")
_sub_route("translations", "Translations: Marquee keeps none.")
_sub_route("alternative_titles", "Alternative titles: Marquee keeps none.")
_sub_route("watch/providers", "Where to watch: Marquee knows no providers.")
_sub_route("changes", "Changes to the movie: Marquee keeps no change history.")
_paged_sub_route("reviews", "Marquee users' reviews of the movie, newest first.")
_paged_sub_route("similar", "Movies most like this one (shared keywords, director, cast).")
_paged_sub_route("recommendations", "Marquee's similar movies, as recommendations.")
_paged_sub_route("similar_movies", "Legacy form of similar (tmdbsimple).", name="similar")
_paged_sub_route("lists", "Public lists holding the movie: Marquee's lists are private.")


@router.get("/movie/latest")
async def get_latest_movie(
    request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """The movie added to the catalog last."""

    async def build() -> bytes:
        movie_id = await movie_queries.latest_movie_id(session)
        if movie_id is None:
            raise TmdbError(NOT_FOUND)
        ctx = MovieContext(request, session, settings, movie_id)
        return orjson.dumps(shapes.movie_details(await ctx.movie()))

    return await cached_answer(request, [CATALOG], build)
