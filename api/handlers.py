"""The handlers that render every error as {detail, code}: the AppError hierarchy, validation,
the framework's HTTP errors, a database that cannot be reached, and anything unexpected."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import AppError, Invalid, error_body

log = logging.getLogger(__name__)

# A 422 lists this many field errors at most: a body with a million bad keys stays a small answer.
MAX_LISTED_ERRORS = 20

DATABASE_RETRY_AFTER = "5"
# MySQL server errors that mean the connection is gone or refused, not that the statement is
# wrong: too many connections, shutting down, connection killed, idle connection dropped.
# (asyncmy raises other server errors as OperationalError too: an unknown column, a CHECK.)
_MYSQL_CONNECTION_ERRORS = frozenset({1040, 1053, 1927, 4031})
# The MySQL client's own errors (2000-2999: cannot connect, server gone, connection lost).
_MYSQL_CLIENT_ERRORS = range(2000, 3000)
_DRIVER_MODULES = ("sqlalchemy.", "asyncmy.", "aiosqlite.")

_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "service_unavailable",
}


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    extra: dict[str, Any] = {}
    if isinstance(exc, Invalid):
        extra["errors"] = [{"type": exc.code, "loc": list(exc.loc), "msg": exc.detail}]
    body = error_body(exc.detail, exc.code, **extra)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    every = exc.errors()
    # Slice before encoding: the encoder's work grows with every error, listed or not.
    # Never echo the input back (it may be secret, or the whole huge body), and drop it before
    # encoding: a refused body of 80,000 keys took 0.15 s to encode only to be thrown away.
    listed = [_without(error, "input", "url") for error in every[:MAX_LISTED_ERRORS]]
    errors = jsonable_encoder(listed, custom_encoder={Exception: str})
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    detail = f"Invalid {where}: {first.get('msg', 'bad input')}" if first else "Invalid input"
    extra: dict[str, Any] = {"errors": errors}
    if len(every) > len(listed):
        extra["errors_truncated"] = len(every) - len(listed)
    return JSONResponse(error_body(detail, "validation_error", **extra), status_code=422)


def _without(error: Any, *names: str) -> dict[str, Any]:
    return {key: value for key, value in error.items() if key not in names}


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return JSONResponse(error_body(detail, code), status_code=exc.status_code, headers=exc.headers)


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached or was lost (an outage clients
    should wait out), as opposed to a statement it refused (a bug, which stays a 500)."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        return _lost_connection(exc)
    return isinstance(exc, OSError) and _raised_through_driver(exc)


def _lost_connection(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:  # the dialect recognised a disconnect
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    if exc.statement is None:  # failed while connecting (or committing): no statement to blame
        return True
    code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
    if not isinstance(code, int):  # a driver without MySQL's codes: trust DB-API's meaning
        return isinstance(exc, OperationalError)
    return code in _MYSQL_CLIENT_ERRORS or code in _MYSQL_CONNECTION_ERRORS


def _raised_through_driver(exc: BaseException) -> bool:
    """A socket error that came up through SQLAlchemy or the driver unwrapped (SQLAlchemy
    wraps only the driver's DB-API errors), not one from Redis or a file."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


async def _database_error(_: Request, exc: Exception) -> JSONResponse:
    if not database_unreachable(exc):
        raise exc  # on to the 500 handler, as if this one were not here
    # The driver's text names the host and port: for the log, never for the client.
    log.warning("database unavailable: %s", getattr(exc, "orig", None) or exc)
    body = error_body("The database is unavailable; try again shortly", "database_unavailable")
    headers = {"Retry-After": DATABASE_RETRY_AFTER}
    return JSONResponse(body, status_code=503, headers=headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(error_body("Internal server error", "internal_error"), status_code=500)


# What a lost or overloaded database raises (answered 503 with Retry-After, natively and on /3).
DATABASE_ERRORS = (DBAPIError, PoolTimeout, OSError)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, _database_error)
    app.add_exception_handler(Exception, _unexpected)
