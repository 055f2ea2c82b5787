"""A movie's sub-resources (spec 3.5, 4.2): each `append_to_response` name mapped to what it
adds, from the native reads. `/3/movie/{id}` appends them and the standalone routes answer them
with the movie's `id`; both read a movie through one MovieContext."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.cache import CATALOG, PEOPLE
from api.movies import queries, similar
from api.movies.present import item_fields, movie_item_fields
from api.pagination import PageParams
from api.settings import Settings
from api.tmdb import movie_queries, ratings, shapes
from api.tmdb.errors import NOT_FOUND, TOO_MANY_APPENDS, TmdbError
from api.tmdb.paging import PAGE_SIZE, TmdbPage
from api.tmdb.sessions import optional_session_user

MAX_APPENDS = 20
FIRST_PAGE = PageParams(page=1, per_page=PAGE_SIZE)


@dataclass
class MovieContext:
    """One request's view of one movie: its native details read once, when first needed."""

    request: Request
    session: AsyncSession
    settings: Settings
    movie_id: int
    params: PageParams = FIRST_PAGE
    _movie: dict[str, Any] | None = field(default=None, init=False)

    async def movie(self) -> dict[str, Any]:
        """The native details' fields (queries.movie_details, as the native route presents
        them), or TMDB's 404 (code 34)."""
        if self._movie is None:
            fields = await queries.movie_details(self.session, self.movie_id)
            if fields is None:
                raise TmdbError(NOT_FOUND)
            self._movie = item_fields(fields, self.settings.IMAGE_BASE_URL)
        return self._movie

    async def require(self) -> None:
        """TMDB's 404 unless the movie exists (without reading all of it)."""
        if self._movie is None and not await queries.movie_exists(self.session, self.movie_id):
            raise TmdbError(NOT_FOUND)


Build = Callable[[MovieContext], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Append:
    """What one name adds (None: nothing, the name is left out). `scopes`: the cache scopes its
    data depends on, beside the movie's own; `cacheable` False for what no write tells the
    cache about (a review's text) or what depends on the caller (a session's states)."""

    build: Build
    scopes: tuple[str, ...] = ()
    cacheable: bool = True


def requested(append_to_response: str | None) -> list[str]:
    """The names asked for, in order, once each; more than 20 is TMDB's 400 (code 27)."""
    names = [name.strip() for name in (append_to_response or "").split(",") if name.strip()]
    if len(names) > MAX_APPENDS:
        raise TmdbError(TOO_MANY_APPENDS)
    return list(dict.fromkeys(names))


async def _credits(ctx: MovieContext) -> dict[str, Any]:
    """Cast and full crew, each credit with the person's gender, department and popularity."""
    movie = await ctx.movie()
    credited = [*movie["cast"], *movie["crew"]]
    people = await movie_queries.credited_people(ctx.session, (c["id"] for c in credited))

    def merged(credit: dict[str, Any]) -> dict[str, Any]:
        return {**people.get(credit["id"], {}), **credit}

    cast, crew = [merged(c) for c in movie["cast"]], [merged(c) for c in movie["crew"]]
    return shapes.credits({**movie, "cast": cast, "crew": crew})


async def _images(ctx: MovieContext) -> dict[str, Any]:
    return shapes.images(await ctx.movie())


async def _keywords(ctx: MovieContext) -> dict[str, Any]:
    return shapes.keywords(await ctx.movie())


async def _release_dates(ctx: MovieContext) -> dict[str, Any]:
    return shapes.release_dates(await ctx.movie())


async def _releases(ctx: MovieContext) -> dict[str, Any]:
    return shapes.releases(await ctx.movie())


async def _external_ids(ctx: MovieContext) -> dict[str, Any]:
    return shapes.external_ids(await ctx.movie())


async def _reviews(ctx: MovieContext) -> dict[str, Any]:
    total, rows = await movie_queries.review_page(ctx.session, ctx.movie_id, ctx.params)
    results = [shapes.review(row) for row in rows]
    return TmdbPage[dict[str, Any]].build(ctx.params, total, results).model_dump()


async def _similar(ctx: MovieContext) -> dict[str, Any]:
    """Marquee's similar movies (shared keywords, director, cast, genres), as TMDB items."""
    total, rows = await similar.similar_page(ctx.session, ctx.movie_id, ctx.params)
    items = await movie_item_fields(ctx.session, rows, ctx.settings.IMAGE_BASE_URL)
    results = [shapes.movie_item(item) for item in items]
    return TmdbPage[dict[str, Any]].build(ctx.params, total, results).model_dump()


def _constant(answer: dict[str, Any]) -> Build:
    """What Marquee has none of: always the same empty answer."""

    async def build(_: MovieContext) -> dict[str, Any]:
        return {key: value.copy() for key, value in answer.items()}

    return build


async def _empty_page(ctx: MovieContext) -> dict[str, Any]:
    """Lists holding the movie: Marquee's lists are private, so none are public."""
    return TmdbPage[dict[str, Any]].build(ctx.params, 0, []).model_dump()


async def _account_states(ctx: MovieContext) -> dict[str, Any] | None:
    """The caller's states with a working `session_id`; without one TMDB leaves it out."""
    user = await optional_session_user(ctx.request, ctx.session)
    if user is None or user.id is None:
        return None
    await ctx.require()
    return await ratings.account_states(ctx.session, user.id, ctx.movie_id)


_CREDITS = Append(_credits, (PEOPLE,))
_SIMILAR = Append(_similar, (CATALOG,))

APPENDS: dict[str, Append] = {
    "account_states": Append(_account_states, cacheable=False),  # the caller's own
    "credits": _CREDITS,
    "casts": _CREDITS,  # the legacy alias tmdbv3api's details() asks for
    "images": Append(_images),
    "videos": Append(_constant({"results": []})),
    "reviews": Append(_reviews, cacheable=False),
    "keywords": Append(_keywords),
    "release_dates": Append(_release_dates),
    "releases": Append(_releases),
    "external_ids": Append(_external_ids),
    "similar": _SIMILAR,
    "recommendations": _SIMILAR,
    "translations": Append(_constant({"translations": []})),
    "alternative_titles": Append(_constant({"titles": []})),
    "lists": Append(_empty_page),
    "watch/providers": Append(_constant({"results": {}})),
    "trailers": Append(_constant({"quicktime": [], "youtube": []})),
    "changes": Append(_constant({"changes": []})),
}
