"""Accounts endpoints: register, token, me."""

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.errors import Unauthorized
from api.users import service
from api.users.models import User
from api.users.schemas import Token, UserPublic, UserRegister
from api.users.security import create_access_token

router = APIRouter(tags=["accounts"])


def _public(user: User) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


@router.post("/auth/register", status_code=status.HTTP_201_CREATED)
async def register_user(session: SessionDep, body: UserRegister) -> UserPublic:
    """Create an account (email, password of 8+ characters, optional display name)."""
    return _public(await service.register(session, body))


@router.post("/auth/token")
async def issue_token(
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Sign in (OAuth2 password form: username is the email): a bearer access token."""
    user = await service.authenticate(session, form.username, form.password)
    if user is None or user.id is None:
        raise Unauthorized("Wrong email or password", "invalid_credentials")
    token = create_access_token(user.id, settings.SECRET_KEY, settings.ACCESS_TOKEN_MINUTES)
    return Token(access_token=token)


@router.get("/users/me")
async def read_me(user: CurrentUser) -> UserPublic:
    """The signed-in user's account."""
    return _public(user)
