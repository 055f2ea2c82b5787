"""The application factory and its lifespan: engine, Redis, Meilisearch, admin bootstrap."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from arq import ArqRedis
from fastapi import FastAPI
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from api.audit import service as audit
from api.audit.router import router as audit_router
from api.cache import Cache
from api.db import make_engine, make_sessionmaker
from api.edges import docs_policies, harden
from api.handlers import install_error_handlers
from api.health import router as health_router
from api.http_cache import HttpCaching
from api.limits import BodyLimit
from api.lists.router import router as lists_router
from api.movies.router import router as movies_router
from api.people.router import router as people_router
from api.ratelimit import RateLimits
from api.redis_pipe import RedisPipe
from api.reviews.router import router as reviews_router
from api.search.client import SearchConnector
from api.search.router import router as search_router
from api.settings import Settings, get_settings
from api.tmdb.app import create_tmdb_app
from api.tmdb.logs import install_log_redaction
from api.trending.router import router as trending_router
from api.users import service as users_service
from api.users.router import router as users_router
from api.web import mount_web
from indexer import SearchFailed, SearchUnavailable

log = logging.getLogger(__name__)

# Redis is a cache and a queue here: better to go on without it than to wait for it.
REDIS_TIMEOUT_SECONDS = 0.5
# A database that is down must not keep the API from serving: the admin bootstrap retries in
# the background, 1 s after a failure, doubling up to 30 s apart.
ADMIN_ATTEMPT_SECONDS = 5.0
ADMIN_RETRY_FIRST_SECONDS, ADMIN_RETRY_MAX_SECONDS = 1.0, 30.0


class StripTrailingSlash:
    """Serve /x and /x/ alike, without redirects (clients do not follow them on POST)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = dict(scope)
            scope["path"] = path.rstrip("/") or "/"
            raw = scope.get("raw_path")
            if raw:
                scope["raw_path"] = raw.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


class Marquee(FastAPI):
    """FastAPI with its HTTP edge outside FastAPI's own layers: security headers and CORS
    (added by `harden`), the body limit, trailing slashes, then HTTP caching, whose cache hits
    are answered before routing. FastAPI's own layers (telemetry checks, body limit, error
    middleware) took a tenth of a cache hit's time; errors inside the application are still
    theirs to render."""

    def __init__(self, *args: Any, http_cache_max_age: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._edge: ASGIApp = BodyLimit(
            StripTrailingSlash(HttpCaching(super().__call__, http_cache_max_age))
        )

    def harden(self, settings: Settings, docs: list[tuple[str, FastAPI]]) -> None:
        """Wrap the edge in the security headers and CORS (api.edges), once every app whose
        docs pages need their own CSP is built."""
        self._edge = harden(self._edge, settings.cors_origins, docs_policies(docs))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self  # what Starlette sets too: HttpCaching reads the cache from it
        await self._edge(scope, receive, send)


def _redis(url: str) -> ArqRedis:
    """A queue or cache connection. It connects on first use and reconnects by itself, so the
    API starts and serves (uncached, with the outbox cron catching up) while Redis is down."""
    return ArqRedis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def _pipe(settings: Settings) -> RedisPipe:
    """The cache's lookup connection (see api.redis_pipe); it connects on first use."""
    return RedisPipe(settings.cache_redis_url, REDIS_TIMEOUT_SECONDS)


async def _connect_search(app: FastAPI) -> None:
    """The search client now if Meilisearch answers; else the first search after it does
    builds it, and search answers 503 until then (the master key never searches)."""
    try:
        await app.state.search.connect()
    except (SearchUnavailable, SearchFailed) as exc:
        log.warning("search is unavailable until Meilisearch answers: %s", exc)


async def _bootstrap_admin(app: FastAPI, settings: Settings) -> bool:
    """Create or promote the configured admin (if any); False when the database failed."""
    email, password = settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD
    if not (email and password):
        return True
    try:
        async with asyncio.timeout(ADMIN_ATTEMPT_SECONDS), app.state.sessionmaker() as session:
            await users_service.ensure_admin(session, email, password, audit.STARTUP)
            await session.commit()
    except Exception as exc:  # noqa: BLE001 - whatever the database says, the API still serves
        log.warning("admin bootstrap failed (retrying): %s: %s", type(exc).__name__, exc)
        return False
    return True


async def _retry_admin_bootstrap(app: FastAPI, settings: Settings) -> None:
    delay = ADMIN_RETRY_FIRST_SECONDS
    while True:
        await asyncio.sleep(delay)
        if await _bootstrap_admin(app, settings):
            log.info("admin bootstrap done")
            return
        delay = min(delay * 2, ADMIN_RETRY_MAX_SECONDS)


async def _start_admin_bootstrap(app: FastAPI, settings: Settings) -> asyncio.Task[None] | None:
    """The admin now when the database answers; else a task that keeps trying, so an API
    started before its database serves meanwhile (what needs the database answers 5xx)."""
    if await _bootstrap_admin(app, settings):
        return None
    return asyncio.create_task(_retry_admin_bootstrap(app, settings))


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        await asyncio.wait([task])


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.engine = make_engine(settings.DATABASE_URL)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.state.redis = _redis(settings.REDIS_URL)
    app.state.rate_limits = RateLimits(app.state.redis, settings)  # on the queue's Redis
    cache_redis = _redis(settings.CACHE_REDIS_URL) if settings.CACHE_REDIS_URL else None
    pipe = _pipe(settings)
    app.state.cache = Cache(cache_redis or app.state.redis, settings.CACHE_TTL_SECONDS, pipe)
    app.state.meili = None  # the search client, set by app.state.search once it has a key
    app.state.search = SearchConnector(settings, app.state)
    await _connect_search(app)
    app.state.admin_bootstrap = await _start_admin_bootstrap(app, settings)
    try:
        yield
    finally:
        await _cancel(app.state.admin_bootstrap)
        await pipe.aclose()
        await app.state.redis.aclose()
        if cache_redis is not None:
            await cache_redis.aclose()
        await app.state.search.aclose()
        await app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = Marquee(
        title="Marquee",
        description="An open movie-catalog API.",
        version="0.1.0",
        lifespan=lifespan,
        redirect_slashes=False,
        http_cache_max_age=settings.HTTP_CACHE_MAX_AGE,
        # Off, /openapi.json, /docs and /redoc answer 404 (production's default).
        openapi_url="/openapi.json" if settings.DOCS_ENABLED else None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(users_router)
    app.include_router(search_router)
    app.include_router(reviews_router)
    app.include_router(lists_router)
    app.include_router(trending_router)
    app.include_router(movies_router)
    app.include_router(people_router)
    app.include_router(audit_router)
    tmdb = _mount_tmdb(app)
    mount_web(app, settings)
    app.harden(settings, [("", app), ("/3", tmdb)])
    return app


def _mount_tmdb(app: FastAPI) -> FastAPI:
    """The TMDB v3 layer at /3, a sub-application with TMDB's error bodies (the native ones
    are untouched); "/3" itself answers its 404 too. Its credentials are masked in the logs."""
    tmdb = create_tmdb_app(app.state)
    app.mount("/3", tmdb)
    app.router.routes.append(Route("/3", tmdb, include_in_schema=False))
    install_log_redaction()
    return tmdb
