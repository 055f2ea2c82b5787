"""The /3 sub-application: its own routes, OpenAPI (/3/openapi.json, /3/docs) and error
handlers, sharing the main app's state (engine, cache, settings: built by its lifespan)."""

from fastapi import APIRouter, FastAPI, Security
from starlette.datastructures import State

from api.tmdb import (
    account,
    authentication,
    configuration,
    discover,
    genres,
    movie_lists,
    movies,
    people,
    ratings,
    search,
    trending,
)
from api.tmdb.auth import require_app_key
from api.tmdb.handlers import install_tmdb_error_handlers

# Sent by clients on every call, and accepted and ignored: FastAPI ignores any parameter a
# route does not declare, and none declares these (Marquee has no translations nor regional
# release dates, and no adult titles to hide).
IGNORED_PARAMETERS = (
    "language", "region", "watch_region", "include_adult", "include_image_language",
    "include_video_language", "per_page",
)  # fmt: skip

DESCRIPTION = (
    "TMDB API v3, served from Marquee's catalog: point a TMDB client's base URL at `/3`. "
    "Every route needs an API key (POST /users/me/api-keys) as `?api_key=` or as "
    "`Authorization: Bearer <key>`. Accepted and ignored: " + ", ".join(IGNORED_PARAMETERS) + "."
)


def _routes() -> APIRouter:
    """Every /3 route, each behind the API key check."""
    keyed = APIRouter(dependencies=[Security(require_app_key)])
    keyed.include_router(configuration.router)
    keyed.include_router(genres.router)
    keyed.include_router(authentication.router)
    keyed.include_router(account.router)
    keyed.include_router(ratings.router)
    keyed.include_router(movie_lists.router)
    keyed.include_router(movies.router)
    keyed.include_router(trending.router)
    keyed.include_router(discover.router)
    keyed.include_router(search.router)
    keyed.include_router(people.router)
    return keyed


def create_tmdb_app(state: State) -> FastAPI:
    app = FastAPI(
        title="Marquee: TMDB v3 compatibility",
        description=DESCRIPTION,
        version="3",
        redirect_slashes=False,
        docs_url="/docs" if state.settings.DOCS_ENABLED else None,
        redoc_url=None,
        openapi_url="/openapi.json" if state.settings.DOCS_ENABLED else None,
    )
    app.state = state  # the main app's: its lifespan fills it, and tests swap parts of it
    install_tmdb_error_handlers(app)
    app.include_router(_routes())
    return app
