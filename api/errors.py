"""The one error hierarchy: every expected failure, with its status and code (rendered by
api.handlers as {detail, code})."""

from typing import Any


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


class PreconditionFailed(AppError):
    """A conditional write (If-Match) whose condition no longer holds: nothing was changed."""

    status_code = 412
    code = "precondition_failed"


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


class TooManyRequests(AppError):
    """A rate limit is spent (api.ratelimit): 429, with the whole seconds to wait."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, detail: str, retry_after: int, code: str | None = None):
        super().__init__(detail, code, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


def error_body(detail: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, "code": code, **extra}
