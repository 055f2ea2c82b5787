"""The /3 sub-application's error handlers: every error, Marquee's and the framework's, in
TMDB's body and with TMDB's code, always JSON. Native error rendering (api.handlers) is not
involved: the sub-application has handlers of its own."""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import AppError
from api.handlers import DATABASE_ERRORS, DATABASE_RETRY_AFTER, database_unreachable
from api.tmdb.errors import (
    INTERNAL,
    INVALID_PAGE,
    INVALID_PARAMS,
    OFFLINE,
    VALIDATION_FAILED,
    TmdbError,
    TmdbStatus,
    status_for,
    tmdb_body,
)

log = logging.getLogger(__name__)

# Headers a native error may carry that still mean something in TMDB's answer.
_KEPT_HEADERS = ("allow", "retry-after", "www-authenticate")


def tmdb_response(status: TmdbStatus, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(tmdb_body(status), status_code=status.http, headers=headers)


def _kept(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    if not headers:
        return None
    return {name: value for name, value in headers.items() if name.lower() in _KEPT_HEADERS}


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    status = exc.tmdb if isinstance(exc, TmdbError) else status_for(exc.status_code)
    return tmdb_response(status, _kept(exc.headers))


def validation_status(errors: Sequence[Any]) -> TmdbStatus:
    """Code 22 when `page` is wrong (TMDB's answer to page 0, 501 or "abc"), 18 for a body
    that is not JSON or not the right one, 5 for any other parameter."""
    places = [tuple(error.get("loc", ())) for error in errors]
    if any(place[:2] == ("query", "page") for place in places):
        return INVALID_PAGE
    if any(place[:1] == ("body",) for place in places):
        return VALIDATION_FAILED
    return INVALID_PARAMS


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return tmdb_response(validation_status(exc.errors()))


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return tmdb_response(status_for(exc.status_code), _kept(exc.headers))


async def _database_error(_: Request, exc: Exception) -> JSONResponse:
    if not database_unreachable(exc):
        return await _unexpected(_, exc)
    log.warning("database unavailable: %s", getattr(exc, "orig", None) or exc)
    return tmdb_response(OFFLINE, {"Retry-After": DATABASE_RETRY_AFTER})


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error under /3", exc_info=exc)
    return tmdb_response(INTERNAL)


def install_tmdb_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, _database_error)
    app.add_exception_handler(Exception, _unexpected)
