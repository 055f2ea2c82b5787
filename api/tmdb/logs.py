"""Credentials never reach the logs: uvicorn's access log prints each request's query string,
where /3 clients send `api_key` (and `session_id`, `request_token`, a legacy `password`). A
filter on uvicorn's loggers masks their values, whatever the case or percent-encoding of
the parameter's name (Starlette decodes `api%5Fkey` to `api_key`, so it must be masked too)."""

import logging
import re
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset(
    {"api_key", "session_id", "guest_session_id", "request_token", "password"}
)
MASK = "***"
LOGGERS = ("uvicorn.access", "uvicorn.error")

_PAIR = re.compile(r"(?<=[?&])([^=&\s#\"]+)=([^&\s#\"]*)")


def _mask(match: re.Match[str]) -> str:
    name = match[1]
    return f"{name}={MASK}" if unquote_plus(name).lower() in SECRET_PARAMETERS else match[0]


def redact(text: str) -> str:
    """`text` with the value of every secret query parameter masked."""
    return _PAIR.sub(_mask, text) if "=" in text else text


class RedactSecrets(logging.Filter):
    """Masks secret query parameters in a record's arguments (uvicorn passes the request
    target as one) and in a message logged without arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    """Add the filter to uvicorn's loggers, once. Uvicorn configures its logging before it
    builds the app, so a filter added by the app factory stays."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
