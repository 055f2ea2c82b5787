"""Account decisions: registration, sign-in, admin bootstrap. Never commits."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.errors import Conflict
from api.users.models import User
from api.users.schemas import UserRegister
from api.users.security import (
    hash_password,
    hash_password_async,
    verify_password,
    verify_password_async,
)


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
            "password_hash": await hash_password_async(data.password),
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
    # argon2 is deliberately slow: its bounded pool keeps it off the event loop.
    ok = await verify_password_async(password, user.password_hash if user else None)
    return user if ok else None


async def ensure_admin(
    session: AsyncSession, email: str, password: str, actor: audit.Actor = audit.CLI
) -> User:
    """Create the admin, or promote the existing account and set its password; what changed
    goes to the audit trail as `actor`'s (an admin already so, with that password, is left as
    is: a restart with the same settings is no change)."""
    user = await find_by_email(session, email)
    action: audit.Action = "update"
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
        action, changes = "create", _made(user)
    else:
        changes = _promote(user, password)
    await session.flush()
    if changes:
        assert user.id is not None
        await audit.record(session, actor, action, "user", user.id, changes)
    return user


def _made(user: User) -> audit.Changes:
    fields = {"email": user.email, "display_name": user.display_name, "is_admin": user.is_admin}
    return audit.created({**fields, "password": audit.REDACTED})


def _promote(user: User, password: str) -> audit.Changes:
    """Make `user` an admin with `password`; what that changed."""
    changes: audit.Changes = {}
    if not user.is_admin:
        user.is_admin = True
        changes["is_admin"] = {"old": False, "new": True}
    if not verify_password(password, user.password_hash):
        user.password_hash = hash_password(password)
        user.token_version += 1  # an operator's reset ends the account's sign-ins
        changes["password"] = {"old": audit.REDACTED, "new": audit.REDACTED}
    return changes
