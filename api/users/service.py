"""Account decisions: registration, sign-in, admin bootstrap. Never commits."""

import asyncio

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Conflict
from api.users.models import User
from api.users.schemas import UserRegister
from api.users.security import hash_password, verify_password


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    stmt = select(User).where(func.lower(User.email) == normalize_email(email))
    return (await session.execute(stmt)).scalars().first()


async def register(session: AsyncSession, data: UserRegister) -> User:
    email = normalize_email(data.email)
    if await find_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists", "email_taken")
    display_name = data.display_name or email.split("@")[0]
    user = User.model_validate(
        {
            "email": email,
            "password_hash": hash_password(data.password),
            "display_name": display_name,
        }
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("An account with this email already exists", "email_taken") from exc
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User | None:
    user = await find_by_email(session, email)
    # argon2 is deliberately slow: keep it off the event loop.
    ok = await asyncio.to_thread(verify_password, password, user.password_hash if user else None)
    return user if ok else None


async def ensure_admin(session: AsyncSession, email: str, password: str) -> User:
    """Create the admin, or promote the existing account and set its password."""
    user = await find_by_email(session, email)
    if user is None:
        user = User.model_validate(
            {
                "email": normalize_email(email),
                "password_hash": hash_password(password),
                "display_name": "admin",
                "is_admin": True,
            }
        )
        session.add(user)
    else:
        user.is_admin = True
        user.password_hash = hash_password(password)
    await session.flush()
    return user
