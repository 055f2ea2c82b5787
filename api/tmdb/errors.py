"""TMDB's error statuses and the AppError that carries one: every error under /3 answers
`{"success": false, "status_code": <TMDB code>, "status_message": <TMDB text>}`."""

from typing import Any, NamedTuple

from api.errors import AppError


class TmdbStatus(NamedTuple):
    http: int
    code: int
    message: str


INVALID_API_KEY = TmdbStatus(401, 7, "Invalid API key: You must be granted a valid key.")
AUTH_FAILED = TmdbStatus(
    401, 3, "Authentication failed: You do not have permissions to access the service."
)
NOT_FOUND = TmdbStatus(404, 34, "The resource you requested could not be found.")
INVALID_PAGE = TmdbStatus(
    400, 22, "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer."
)
INVALID_DATE = TmdbStatus(400, 23, "Invalid date: Format needs to be YYYY-MM-DD.")
TOO_MANY_APPENDS = TmdbStatus(
    400,
    27,
    "Too many append to response objects: The maximum number of remote calls is 20.",
)
INVALID_PARAMS = TmdbStatus(422, 5, "Invalid parameters: Your request parameters are incorrect.")
VALIDATION_FAILED = TmdbStatus(400, 18, "Validation failed.")
METHOD_NOT_ALLOWED = TmdbStatus(405, 42, "This request method is not supported for this resource.")
RATE_LIMITED = TmdbStatus(429, 25, "Your request count (#) is over the allowed limit of (40).")
INTERNAL = TmdbStatus(500, 11, "Internal error: Something went wrong, contact TMDB.")
OFFLINE = TmdbStatus(
    503, 9, "Service offline: This service is temporarily offline, try again later."
)

# Marquee's own errors (the AppError hierarchy, the framework's HTTP errors) under /3, by their
# HTTP status; any other status keeps its number with code 5 (4xx) or 11 (5xx).
BY_HTTP_STATUS = {
    400: INVALID_PARAMS,
    401: AUTH_FAILED,
    403: AUTH_FAILED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    409: INVALID_PARAMS,
    422: INVALID_PARAMS,
    429: RATE_LIMITED,
    500: INTERNAL,
    503: OFFLINE,
}


def status_for(http_status: int) -> TmdbStatus:
    known = BY_HTTP_STATUS.get(http_status)
    if known is not None:
        return known
    fallback = INVALID_PARAMS if http_status < 500 else INTERNAL
    return fallback._replace(http=http_status)


class TmdbError(AppError):
    """An expected failure under /3, with TMDB's status code and text."""

    def __init__(self, status: TmdbStatus, headers: dict[str, str] | None = None) -> None:
        super().__init__(status.message, f"tmdb_{status.code}", headers)
        self.status_code = status.http
        self.tmdb = status


def tmdb_body(status: TmdbStatus) -> dict[str, Any]:
    return {"success": False, "status_code": status.code, "status_message": status.message}
