"""Sign-in tokens on the server side: the user a token names (read in one query that also says
whether the token was signed out), and signing one token out. Never commits.

A token is refused when its id is in `revoked_token` (signed out) or when it carries an older
token version than its user's (the password changed since: api.users.account). Nothing is
written at sign-in: only sign-outs leave rows, each gone once its token would have expired.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.users.models import RevokedToken, User
from api.users.security import TokenClaims


@dataclass(frozen=True, slots=True)
class SignIn:
    """The signed-in user of a request, and the token that signed them in."""

    user: User
    claims: TokenClaims


async def token_user(session: AsyncSession, claims: TokenClaims) -> User | None:
    """The user the token names, if the token still works: the one query of an authenticated
    request (the user's row and, by primary key, the token's revocation if there is one)."""
    signed_out = and_(
        col(RevokedToken.token_id) == claims.token_id, col(RevokedToken.user_id) == col(User.id)
    )
    stmt = (
        select(User, col(RevokedToken.token_id))
        .outerjoin(RevokedToken, signed_out)
        .where(col(User.id) == claims.user_id)
    )
    found = (await session.execute(stmt)).first()
    if found is None:
        return None  # the account is gone
    user, revoked = found
    if revoked is not None or user.token_version != claims.version:
        return None
    return user


async def sign_out(session: AsyncSession, claims: TokenClaims, now: datetime) -> None:
    """Refuse this token from now on. Revocations of tokens that have expired go at the same
    time: an expired token is refused without them, so the table holds live tokens only."""
    await session.execute(delete(RevokedToken).where(col(RevokedToken.expires_at) < now))
    fields = {"token_id": claims.token_id, "user_id": claims.user_id, "revoked_at": now}
    row = RevokedToken.model_validate({**fields, "expires_at": claims.expires_at})
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:  # a concurrent sign-out of the same token got there first
        pass
