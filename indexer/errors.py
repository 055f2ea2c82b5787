"""The two errors indexer raises, and the one place that translates SDK and transport errors."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import httpx2
from meilisearch_python_sdk.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchError,
    MeilisearchTaskFailedError,
    MeilisearchTimeoutError,
)

P = ParamSpec("P")
R = TypeVar("R")


class SearchUnavailable(Exception):
    """Meilisearch cannot be reached or did not answer in time (refused, timeout, 5xx)."""


class SearchFailed(Exception):
    """Meilisearch refused a request (4xx) or a task it accepted failed."""


def translate(err: Exception) -> SearchUnavailable | SearchFailed:
    """Map an SDK or transport exception onto SearchUnavailable or SearchFailed."""
    if isinstance(err, MeilisearchApiError):
        cls = SearchUnavailable if err.status_code >= 500 else SearchFailed
        message = err.message.removeprefix("Error message: ")
        return cls(f"meilisearch answered {err.status_code}: {err.code} {message}".strip())
    if isinstance(err, httpx2.HTTPStatusError):
        status = err.response.status_code
        cls = SearchUnavailable if status >= 500 else SearchFailed
        return cls(f"meilisearch answered {status}")
    if isinstance(err, MeilisearchTaskFailedError):
        return SearchFailed(err.message)
    if isinstance(err, MeilisearchCommunicationError | MeilisearchTimeoutError):
        return SearchUnavailable(err.message)
    if isinstance(err, httpx2.TransportError | TimeoutError | OSError):
        return SearchUnavailable(f"meilisearch unreachable: {err!r}")
    if isinstance(err, MeilisearchError) and isinstance(err.__cause__, httpx2.TransportError):
        return SearchUnavailable(f"meilisearch unreachable: {err.__cause__!r}")
    return SearchFailed(f"meilisearch error: {err}")


_TRANSLATED = (MeilisearchError, httpx2.HTTPError, TimeoutError, OSError)


def translate_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorate an async function so only SearchUnavailable/SearchFailed escape it."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except _TRANSLATED as err:
            raise translate(err) from err

    return wrapper
