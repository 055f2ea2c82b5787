"""The app credential of every /3 request: an API key as `?api_key=` or as
`Authorization: Bearer <key>` (TMDB's "read access token" form), or TMDB's 401 with code 7."""

import logging
from datetime import datetime
from typing import Annotated

from fastapi import BackgroundTasks, Request, Security
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from api.deps import SessionDep
from api.ratelimit import rate_limits
from api.tmdb.errors import INVALID_API_KEY, RATE_LIMITED, TmdbError
from api.types import utcnow
from api.users import api_keys
from api.users.api_keys import KeyHolder

log = logging.getLogger(__name__)

# Security schemes, not query parameters: the key is not part of what keys a cached answer.
_query_key = APIKeyQuery(
    name="api_key", auto_error=False, description="A Marquee API key (POST /users/me/api-keys)"
)
_bearer_key = HTTPBearer(auto_error=False, description="The same API key, as a Bearer token")


def presented_key(query_key: str | None, bearer: HTTPAuthorizationCredentials | None) -> str | None:
    """The key the request carries: `api_key` when given (what most clients send), else the
    Bearer token."""
    if query_key:
        return query_key
    return bearer.credentials if bearer is not None else None


async def require_app_key(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    query_key: Annotated[str | None, Security(_query_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer_key)],
) -> KeyHolder:
    """The key's holder, or TMDB's 401 (code 7) for a missing, unknown or revoked key, or
    TMDB's 429 (code 25, with Retry-After) once the key's RATE_LIMIT_API_KEY is spent."""
    key = presented_key(query_key, bearer)
    holder = await api_keys.find_active(session, key) if key else None
    if holder is None:
        raise TmdbError(INVALID_API_KEY)
    await _within_budget(request, holder.key_id)
    now = utcnow()
    if holder.needs_touch(now):
        # After the answer, in a transaction of its own: no write (or lock) in the request's.
        background.add_task(_record_use, request, holder.key_id, now)
    return holder


async def _within_budget(request: Request, key_id: int) -> None:
    """One Redis round trip (api.ratelimit). No X-RateLimit-* headers: tmdbv3api needs both
    Remaining and Reset or neither, and knowing them would cost a second round trip."""
    limits = rate_limits(request)
    wait = await limits.api_key_wait(key_id)
    if wait:
        allowed = min(item.amount for item in limits.api_key)
        message = f"Your request count (#) is over the allowed limit of ({allowed})."
        raise TmdbError(RATE_LIMITED._replace(message=message), {"Retry-After": str(wait)})


async def _record_use(request: Request, key_id: int, now: datetime) -> None:
    try:
        async with request.app.state.sessionmaker() as session:
            await api_keys.touch(session, key_id, now)
            await session.commit()
    except (SQLAlchemyError, OSError) as exc:  # best effort: the answer is already sent
        log.warning("could not record the use of API key %s: %s", key_id, exc)


AppKey = Annotated[KeyHolder, Security(require_app_key)]
