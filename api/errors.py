"""The one error hierarchy and the handlers that render every error as {detail, code}."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

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


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.code
        self.headers = headers


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"

    def __init__(self, detail: str, code: str | None = None):
        super().__init__(detail, code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class Invalid(AppError):
    """Input that parsed but makes no sense (an unknown person id, say): 422, with the
    field-level `errors` list every 422 carries (`loc` says where, as the framework's do)."""

    status_code = 422
    code = "validation_error"

    def __init__(self, detail: str, code: str | None = None, loc: tuple[str | int, ...] = ()):
        super().__init__(detail, code)
        self.loc = loc


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


def error_body(detail: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, "code": code, **extra}


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    extra: dict[str, Any] = {}
    if isinstance(exc, Invalid):
        extra["errors"] = [{"type": exc.code, "loc": list(exc.loc), "msg": exc.detail}]
    body = error_body(exc.detail, exc.code, **extra)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors(), custom_encoder={Exception: str})
    for error in errors:
        error.pop("input", None)  # never echo (possibly secret or huge) input back
        error.pop("url", None)
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    detail = f"Invalid {where}: {first.get('msg', 'bad input')}" if first else "Invalid input"
    return JSONResponse(error_body(detail, "validation_error", errors=errors), status_code=422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return JSONResponse(error_body(detail, code), status_code=exc.status_code, headers=exc.headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(error_body("Internal server error", "internal_error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
