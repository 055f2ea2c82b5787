"""TMDB's user credentials on /3: request tokens (issued, approved by a login, used once) and
sessions (made from an approved token, revoked at once), stored as SHA-256 and tied to the API
key that asked for them; the `session_id` dependency, and `optional_session_user` for routes
where a session only adds to the answer. Never commits."""

import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import BackgroundTasks, Request, Security
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.deps import SessionDep
from api.tmdb.auth import AppKey, presented_key
from api.tmdb.errors import AUTH_FAILED, TmdbError, TmdbStatus
from api.tmdb.models import TmdbRequestToken, TmdbSession
from api.types import utcnow
from api.users import api_keys
from api.users.api_keys import hash_key
from api.users.models import User

log = logging.getLogger(__name__)

INVALID_TOKEN = TmdbStatus(
    401, 33, "Invalid request token: The request token is either expired or invalid."
)
SESSION_DENIED = TmdbStatus(401, 17, "Session denied.")
SESSION_NOT_FOUND = TmdbStatus(404, 37, "The requested session could not be found.")

# 40 hex characters, the look of TMDB's request tokens and session ids: 160 random bits, so
# SHA-256 is enough and a lookup by hash leaks nothing through its timing.
SECRET_BYTES = 20
_SECRET_SHAPE = re.compile(r"[0-9a-f]{40}")
REQUEST_TOKEN_LIFETIME = timedelta(minutes=60)
# TMDB's sessions never expire; one unused this long ends (TMDB_V3.md 1.4's default).
SESSION_IDLE_LIMIT = timedelta(days=90)
# `last_used_at` is written at most once a minute per session, after the answer.
LAST_USED_PRECISION = api_keys.LAST_USED_PRECISION


def _digest(secret: str | None) -> str | None:
    """The stored hash of a token or session id; None when it has not even the shape of one
    (then no query is made)."""
    secret = (secret or "").strip().lower()
    return hash_key(secret) if _SECRET_SHAPE.fullmatch(secret) else None


async def issue_request_token(
    session: AsyncSession, key_id: int, now: datetime
) -> tuple[str, datetime]:
    """A new request token for the app with this key: the token (only its hash is kept) and
    when it expires. Tokens that expired a while ago go at the same time."""
    await session.execute(
        delete(TmdbRequestToken).where(col(TmdbRequestToken.expires_at) < now - timedelta(days=1))
    )
    token = secrets.token_hex(SECRET_BYTES)
    expires_at = now + REQUEST_TOKEN_LIFETIME
    fields = {"token_hash": hash_key(token), "api_key_id": key_id, "expires_at": expires_at}
    session.add(TmdbRequestToken.model_validate({**fields, "created_at": now}))
    await session.flush()
    return token, expires_at


async def live_request_token(
    session: AsyncSession, token: str | None, key_id: int, lock: bool = False
) -> TmdbRequestToken:
    """The app's unexpired token, or TMDB's 401 code 33 (unknown, used, expired, or another
    app's); `lock` reads the current row and holds it, so it is used once only."""
    digest = _digest(token)
    if digest is None:
        raise TmdbError(INVALID_TOKEN)
    stmt = select(TmdbRequestToken).where(
        col(TmdbRequestToken.token_hash) == digest, col(TmdbRequestToken.api_key_id) == key_id
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = (await session.execute(stmt)).scalars().first()
    if row is None or row.expires_at <= utcnow():
        raise TmdbError(INVALID_TOKEN)
    return row


async def open_session(session: AsyncSession, token: str | None, key_id: int) -> str:
    """A session for the user who approved this token, which it uses up: the session id (only
    its hash is kept). 33 for a token that does not work, 17 for one not approved."""
    row = await live_request_token(session, token, key_id, lock=True)
    if row.user_id is None:
        raise TmdbError(SESSION_DENIED)
    await session.execute(delete(TmdbRequestToken).where(col(TmdbRequestToken.id) == row.id))
    session_id = secrets.token_hex(SECRET_BYTES)
    fields = {"user_id": row.user_id, "api_key_id": key_id, "session_hash": hash_key(session_id)}
    session.add(TmdbSession.model_validate(fields))
    await session.flush()
    return session_id


async def revoke_session(session: AsyncSession, session_id: str | None, key_id: int) -> None:
    """End the session at once; TMDB's 404 code 37 when this app has no such live session."""
    digest = _digest(session_id)
    if digest is None:
        raise TmdbError(SESSION_NOT_FOUND)
    stmt = (
        update(TmdbSession)
        .where(
            col(TmdbSession.session_hash) == digest,
            col(TmdbSession.api_key_id) == key_id,
            col(TmdbSession.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )
    if not (await session.execute(stmt)).rowcount:  # type: ignore[attr-defined]
        raise TmdbError(SESSION_NOT_FOUND)


async def end_user_sessions(session: AsyncSession, user_id: int, now: datetime) -> None:
    """End every session of the user at once, and drop the request tokens they approved that
    no app has used yet (each would still make a session): what a password change does."""
    live = col(TmdbSession.user_id) == user_id, col(TmdbSession.revoked_at).is_(None)
    await session.execute(update(TmdbSession).where(*live).values(revoked_at=now))
    approved = col(TmdbRequestToken.user_id) == user_id
    await session.execute(delete(TmdbRequestToken).where(approved))


async def find_session(
    session: AsyncSession, session_id: str | None, key_id: int, now: datetime
) -> tuple[User, int, datetime | None] | None:
    """The session's user, its row id and last use, if the session works with this key: not
    revoked, and used within SESSION_IDLE_LIMIT."""
    digest = _digest(session_id)
    if digest is None:
        return None
    stmt = (
        select(User, TmdbSession)
        .join(TmdbSession, col(TmdbSession.user_id) == col(User.id))
        .where(col(TmdbSession.session_hash) == digest, col(TmdbSession.api_key_id) == key_id)
        .where(col(TmdbSession.revoked_at).is_(None))
    )
    found = (await session.execute(stmt)).first()
    if found is None:
        return None
    user, row = found
    if (row.last_used_at or row.created_at) <= now - SESSION_IDLE_LIMIT or row.id is None:
        return None
    return user, row.id, row.last_used_at


async def touch_session(session: AsyncSession, row_id: int, now: datetime) -> None:
    """Record a use at `now` unless one within LAST_USED_PRECISION is already stored."""
    recent = now - LAST_USED_PRECISION
    stale = or_(col(TmdbSession.last_used_at).is_(None), col(TmdbSession.last_used_at) <= recent)
    stmt = update(TmdbSession).where(col(TmdbSession.id) == row_id, stale)
    await session.execute(stmt.values(last_used_at=now))


async def _session_user(
    request: Request,
    session: AsyncSession,
    session_id: str | None,
    key_id: int,
    background: BackgroundTasks | None,
) -> User | None:
    now = utcnow()
    found = await find_session(session, session_id, key_id, now)
    if found is None:
        return None
    user, row_id, last_used_at = found
    if background is not None and (
        last_used_at is None or now - last_used_at >= LAST_USED_PRECISION
    ):
        # After the answer, in a transaction of its own: no write (or lock) in the request's.
        background.add_task(_record_use, request, row_id, now)
    return user


async def _record_use(request: Request, row_id: int, now: datetime) -> None:
    try:
        async with request.app.state.sessionmaker() as session:
            await touch_session(session, row_id, now)
            await session.commit()
    except (SQLAlchemyError, OSError) as exc:  # best effort: the answer is already sent
        log.warning("could not record the use of TMDB session %s: %s", row_id, exc)


_session_query = APIKeyQuery(
    name="session_id",
    scheme_name="TMDB session",
    auto_error=False,
    description="A session of TMDB's login flow (POST /authentication/session/new)",
)


async def require_session_user(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    holder: AppKey,
    session_id: Annotated[str | None, Security(_session_query)],
) -> User:
    """The session's user, or TMDB's 401 code 3 for a missing, unknown, revoked or idle
    session, or one made with another API key."""
    user = await _session_user(request, session, session_id, holder.key_id, background)
    if user is None:
        raise TmdbError(AUTH_FAILED)
    return user


SessionUser = Annotated[User, Security(require_session_user)]


async def optional_session_user(
    request: Request, session: AsyncSession, background: BackgroundTasks | None = None
) -> User | None:
    """The user of the request's `session_id` when it has a working one, else None: for
    answers a session only adds to (`append_to_response=account_states`). Such an answer
    depends on the user: never serve it from the shared cache."""
    session_id = request.query_params.get("session_id")
    key = presented_key(request.query_params.get("api_key"), _bearer(request))
    if not session_id or not key:
        return None
    holder = await api_keys.find_active(session, key)
    if holder is None:
        return None
    return await _session_user(request, session, session_id, holder.key_id, background)


def _bearer(request: Request) -> HTTPAuthorizationCredentials | None:
    scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not credentials:
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)
