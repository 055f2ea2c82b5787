"""Accounts endpoints: register, token, sign-out, me (password, deletion), API keys."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import CurrentSignIn, CurrentUser, SessionDep, SettingsDep
from api.errors import Unauthorized
from api.ratelimit import ClientLimitsDep
from api.types import utcnow
from api.users import account, api_keys, service, tokens
from api.users.models import ApiKey, User
from api.users.schemas import (
    AccountDeletion,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    PasswordChange,
    Token,
    UserPublic,
    UserRegister,
)
from api.users.security import create_access_token

router = APIRouter(tags=["accounts"])


def _no_store(response: Response) -> None:
    """Answers holding a secret (a token, a new API key) are kept by no cache (RFC 6749 5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


NoStore = Depends(_no_store)


def _public(user: User) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


@router.post("/auth/register", status_code=status.HTTP_201_CREATED)
async def register_user(
    session: SessionDep, body: UserRegister, limits: ClientLimitsDep
) -> UserPublic:
    """Create an account (email, password of 8+ characters, optional display name); 429 past
    RATE_LIMIT_REGISTER_ADDRESS from one address."""
    await limits.register()
    return _public(await service.register(session, body))


@router.post("/auth/token", dependencies=[NoStore])
async def issue_token(
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    limits: ClientLimitsDep,
) -> Token:
    """Sign in (OAuth2 password form: username is the email): a bearer access token. 429 past
    RATE_LIMIT_LOGIN_ACCOUNT or RATE_LIMIT_LOGIN_ADDRESS failures, right password or not."""
    user = await limits.sign_in(
        form.username, lambda: service.authenticate(session, form.username, form.password)
    )
    if user is None or user.id is None:
        raise Unauthorized("Wrong email or password", "invalid_credentials")
    minutes = settings.ACCESS_TOKEN_MINUTES
    token = create_access_token(user.id, settings.SECRET_KEY, minutes, user.token_version)
    return Token(access_token=token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(session: SessionDep, sign_in: CurrentSignIn) -> Response:
    """Sign out: the token this is called with stops working at once (others stay signed in)."""
    await tokens.sign_out(session, sign_in.claims, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/me")
async def read_me(user: CurrentUser) -> UserPublic:
    """The signed-in user's account."""
    return _public(user)


@router.put("/users/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    session: SessionDep, user: CurrentUser, body: PasswordChange, limits: ClientLimitsDep
) -> Response:
    """Change your password (403 if the current one is wrong; wrong ones count as failed
    sign-ins): every token issued before, this
    one included, and your TMDB sessions stop working; sign in again with the new one."""
    await account.change_password(session, limits, user, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/users/me", status_code=status.HTTP_204_NO_CONTENT)
async def delete_account(
    session: SessionDep, user: CurrentUser, body: AccountDeletion, limits: ClientLimitsDep
) -> Response:
    """Delete your account (403 if the password is wrong), with your reviews (their ratings
    leave the movies' votes as if never made), lists, API keys and sessions."""
    await account.delete_account(session, limits, user, body.password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/users/me/api-keys", status_code=status.HTTP_201_CREATED, dependencies=[NoStore])
async def create_api_key(
    session: SessionDep, user: CurrentUser, body: ApiKeyCreate
) -> ApiKeyCreated:
    """Create an API key for the TMDB-compatible layer (/3); the key is shown this once."""
    assert user.id is not None
    row, key = await api_keys.create(session, user.id, body.name)
    return ApiKeyCreated.model_validate({**_key_fields(row), "api_key": key})


@router.get("/users/me/api-keys")
async def list_api_keys(session: SessionDep, user: CurrentUser) -> list[ApiKeyPublic]:
    """Your API keys that work, newest first, without their secret."""
    assert user.id is not None
    rows = await api_keys.list_active(session, user.id)
    return [ApiKeyPublic.model_validate(row, from_attributes=True) for row in rows]


@router.delete("/users/me/api-keys/{key_id:int}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(session: SessionDep, user: CurrentUser, key_id: int) -> Response:
    """Revoke one of your API keys: it stops working at once. 404 for any other id."""
    assert user.id is not None
    await api_keys.revoke(session, user.id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _key_fields(row: ApiKey) -> dict[str, object]:
    return {"id": row.id, "name": row.name, "created_at": row.created_at}
