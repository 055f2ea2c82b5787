"""Request dependencies shared by the routers: settings and the signed-in user."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.db import SessionDep
from api.errors import Forbidden, Unauthorized
from api.settings import Settings
from api.users.models import User
from api.users.security import read_access_token

_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


async def _current_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(_bearer)]
) -> User:
    if not token:
        raise Unauthorized("Sign in: send 'Authorization: Bearer <token>'")
    user_id = read_access_token(token, settings.SECRET_KEY)
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise Unauthorized("The token is invalid or has expired", "invalid_token")
    return user


async def _admin_user(user: Annotated[User, Depends(_current_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("This needs an admin account", "admin_required")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
AdminUser = Annotated[User, Depends(_admin_user)]
