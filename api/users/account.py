"""Account self-service: changing the password (which ends every sign-in token and TMDB session
issued before) and deleting the account with everything it owns. Never commits."""

from sqlalchemy import ColumnElement, Delete, Update, delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.errors import Forbidden
from api.ratelimit import ClientLimits
from api.reviews.service import remove_account_reviews
from api.tmdb.sessions import end_user_sessions
from api.types import utcnow
from api.users import api_keys
from api.users.models import User
from api.users.schemas import PasswordChange
from api.users.security import hash_password_async, verify_password_async


async def change_password(
    session: AsyncSession, limits: ClientLimits, user: User, data: PasswordChange
) -> None:
    """Set a new password once the current one is confirmed. Every sign-in token issued before
    (the one used included: sign in again) and every TMDB session of the account stop working;
    API keys stay (each belongs to an application and is revoked on its own)."""
    assert user.id is not None
    await _confirm(limits, user, data.current_password)
    new_hash = await hash_password_async(data.new_password)
    values = {"password_hash": new_hash, "token_version": col(User.token_version) + 1}
    stmt = update(User).where(*_as_confirmed(user)).values(values)
    if not await _written(session, stmt):
        raise _wrong_password()
    await end_user_sessions(session, user.id, utcnow())


async def delete_account(
    session: AsyncSession, limits: ClientLimits, user: User, password: str
) -> list[int]:
    """Delete the account once its password is confirmed; returns the movies whose votes moved.

    Its ratings leave their movies' votes as if never made (and the movies reach search through
    the outbox, like any rating change); the rest goes with the account's row by cascade: list
    entries, API keys, TMDB sessions and request tokens, signed-out tokens, and its trending
    activity (the trending scores drop it at their next recompute)."""
    assert user.id is not None
    await _confirm(limits, user, password)
    movie_ids = await remove_account_reviews(session, user.id)
    await api_keys.forget_all(session, user.id)
    stmt = delete(User).where(*_as_confirmed(user))
    if not await _written(session, stmt):
        raise _wrong_password()  # the request's transaction rolls back the reviews' removal
    return movie_ids


async def _confirm(limits: ClientLimits, user: User, password: str) -> None:
    """The account's password, checked as a sign-in is: argon2 in its pool (503 when full),
    and within the sign-in limits (429 past them), so a stolen token cannot guess it here."""

    async def check() -> User | None:
        return user if await verify_password_async(password, user.password_hash) else None

    if await limits.sign_in(user.email, check) is None:
        raise _wrong_password()


def _as_confirmed(user: User) -> tuple[ColumnElement[bool], ...]:
    """The user's row while its password is still the one just confirmed: if a concurrent
    request changed it meanwhile, the write matches nothing and this request fails."""
    return col(User.id) == user.id, col(User.password_hash) == user.password_hash


async def _written(session: AsyncSession, stmt: Update | Delete) -> int:
    """How many rows the statement changed (the in-memory user is not used afterwards)."""
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _wrong_password() -> Forbidden:
    return Forbidden("The password is wrong", "wrong_password")
