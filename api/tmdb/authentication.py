"""`/3/authentication/...`: TMDB's request-token login (`username` is the Marquee email), its
sessions and their end; the legacy GET forms tmdbsimple sends only with
TMDB_COMPAT_LEGACY_GET_LOGIN (they carry the password in the URL)."""

from typing import Annotated

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep, SettingsDep
from api.ratelimit import ClientLimits, ClientLimitsDep
from api.settings import Settings
from api.tmdb import sessions
from api.tmdb.auth import AppKey
from api.tmdb.encoding import tmdb_expiry
from api.tmdb.errors import METHOD_NOT_ALLOWED, TmdbError, TmdbStatus
from api.types import utcnow
from api.users import service as accounts
from api.users.api_keys import KeyHolder

router = APIRouter(prefix="/authentication", tags=["authentication"])

MISSING_LOGIN = TmdbStatus(400, 26, "You must provide a username and password.")
BAD_LOGIN = TmdbStatus(
    401, 30, "Invalid username and/or password: You did not provide a valid login."
)


class _Body(BaseModel):
    # Extra fields are TMDB's too (moviedb-promise sends `api_key` in bodies): ignored.
    model_config = ConfigDict(extra="ignore")


class LoginBody(_Body):
    username: str | None = None
    password: str | None = None
    request_token: str | None = None


class TokenBody(_Body):
    request_token: str | None = None


class SessionBody(_Body):
    session_id: str | None = None


class Succeeded(BaseModel):
    success: bool = True


class KeyChecked(Succeeded):
    status_code: int = 1
    status_message: str = "Success."


class RequestToken(Succeeded):
    expires_at: str
    request_token: str


class NewSession(Succeeded):
    session_id: str


@router.get("")
async def check_key(_: AppKey) -> KeyChecked:
    """Whether the API key works (it does, or this answers TMDB's 401 code 7)."""
    return KeyChecked()


@router.get("/token/new")
async def new_request_token(session: SessionDep, holder: AppKey) -> RequestToken:
    """A request token for this app, valid for 60 minutes, to approve with a login."""
    token, expires_at = await sessions.issue_request_token(session, holder.key_id, utcnow())
    return RequestToken(expires_at=tmdb_expiry(expires_at), request_token=token)


@router.post("/token/validate_with_login")
async def validate_with_login(
    session: SessionDep,
    holder: AppKey,
    limits: ClientLimitsDep,
    body: Annotated[LoginBody | None, Body()] = None,
) -> RequestToken:
    """Approve a request token with the account's email (`username`) and password (within
    /auth/token's sign-in limits: 429, code 25, past them)."""
    login = body or LoginBody()
    return await _approve(session, holder, login, limits)


@router.get("/token/validate_with_login")
async def validate_with_login_legacy(
    session: SessionDep,
    settings: SettingsDep,
    holder: AppKey,
    limits: ClientLimitsDep,
    username: Annotated[str | None, Query()] = None,
    password: Annotated[str | None, Query()] = None,
    request_token: Annotated[str | None, Query()] = None,
) -> RequestToken:
    """The legacy GET form (tmdbsimple's): only with TMDB_COMPAT_LEGACY_GET_LOGIN=true."""
    _require_legacy_login(settings)
    login = LoginBody(username=username, password=password, request_token=request_token)
    return await _approve(session, holder, login, limits)


@router.post("/session/new")
async def new_session(
    session: SessionDep, holder: AppKey, body: Annotated[TokenBody | None, Body()] = None
) -> NewSession:
    """A session for the account that approved the request token; the token is used up."""
    token = body.request_token if body else None
    return NewSession(session_id=await sessions.open_session(session, token, holder.key_id))


@router.get("/session/new")
async def new_session_legacy(
    session: SessionDep,
    settings: SettingsDep,
    holder: AppKey,
    request_token: Annotated[str | None, Query()] = None,
) -> NewSession:
    """The legacy GET form (tmdbsimple's): only with TMDB_COMPAT_LEGACY_GET_LOGIN=true."""
    _require_legacy_login(settings)
    return NewSession(session_id=await sessions.open_session(session, request_token, holder.key_id))


@router.delete("/session")
async def delete_session(
    session: SessionDep,
    holder: AppKey,
    body: Annotated[SessionBody | None, Body()] = None,
    session_id: Annotated[str | None, Query(description="when the body has none")] = None,
) -> Succeeded:
    """End a session (given in the JSON body, as TMDB takes it): it stops working at once."""
    given = (body.session_id if body else None) or session_id
    await sessions.revoke_session(session, given, holder.key_id)
    return Succeeded()


async def _approve(
    session: AsyncSession, holder: KeyHolder, login: LoginBody, limits: ClientLimits
) -> RequestToken:
    """26 without a username or password, 33 for a token that does not work, 30 for a wrong
    login (the same whether or not the email exists)."""
    if not login.username or not login.password:
        raise TmdbError(MISSING_LOGIN)
    row = await sessions.live_request_token(session, login.request_token, holder.key_id)
    email, password = login.username, login.password
    user = await limits.sign_in(email, lambda: accounts.authenticate(session, email, password))
    if user is None or user.id is None:
        raise TmdbError(BAD_LOGIN)
    row.user_id = user.id
    await session.flush()
    token = (login.request_token or "").strip().lower()
    return RequestToken(expires_at=tmdb_expiry(row.expires_at), request_token=token)


def _require_legacy_login(settings: Settings) -> None:
    """Switched off, the legacy forms answer as a method the path does not have."""
    if not settings.TMDB_COMPAT_LEGACY_GET_LOGIN:
        raise TmdbError(METHOD_NOT_ALLOWED, headers={"Allow": "POST"})
