"""Request dependencies shared by the routers: the transaction, page parameters, settings and
the signed-in user."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.after_commit import AfterCommit
from api.errors import Forbidden, Unauthorized
from api.pagination import MAX_PER_PAGE, PageParams
from api.settings import Settings
from api.users.models import User
from api.users.security import read_access_token
from api.users.tokens import SignIn, token_user


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    async with state.sessionmaker() as session:
        work = AfterCommit(queue=state.redis, cache=state.cache)
        work.attach(session)
        yield session
        await session.commit()
        await work.run()


# scope="function": the commit happens before the response is sent, so a failed
# commit is an error response, never a 2xx followed by lost data.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def _page_params(
    # Any page past the end is an empty page, not an error; the bound only keeps it an int.
    page: Annotated[int, Query(ge=1, le=2**31 - 1, description="1-based page number")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="items per page")] = 20,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


PageDep = Annotated[PageParams, Depends(_page_params)]

_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


async def _current_sign_in(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(_bearer)]
) -> SignIn:
    if not token:
        raise Unauthorized("Sign in: send 'Authorization: Bearer <token>'")
    claims = read_access_token(token, settings.SECRET_KEY)
    user = await token_user(session, claims) if claims is not None else None
    if user is None or claims is None:
        raise Unauthorized("The token is invalid, has expired or was revoked", "invalid_token")
    return SignIn(user, claims)


CurrentSignIn = Annotated[SignIn, Depends(_current_sign_in)]


async def _current_user(sign_in: CurrentSignIn) -> User:
    return sign_in.user


async def _admin_user(user: Annotated[User, Depends(_current_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("This needs an admin account", "admin_required")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
AdminUser = Annotated[User, Depends(_admin_user)]
