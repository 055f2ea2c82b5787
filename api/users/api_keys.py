"""API keys: issued to a user and shown once, stored as SHA-256, revoked at once (the cache's
marker of the key, which lets /3 hits be answered before routing, is bumped after the commit);
the lookup the TMDB-compatible layer authenticates with, and `last_used_at` kept without a write
per request. Never commits."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.after_commit import invalidate_after_commit
from api.cache import key_scope
from api.errors import Conflict, NotFound
from api.types import utcnow
from api.users.models import ApiKey
from api.users.service import find_by_email

# 32 hex characters, the look of a TMDB v3 key: 128 random bits need no slow hash, and a lookup
# by hash leaks nothing through its timing.
KEY_BYTES = 16
PREFIX_LENGTH = 8
MAX_ACTIVE_KEYS = 50
# `last_used_at` is written only when the stored value is older than this: one write per key per
# minute at most, whatever the traffic, and no in-process state to lose or share.
LAST_USED_PRECISION = timedelta(minutes=1)
_KEY_SHAPE = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """An active key as a request sees it: whose it is, and when it was last used."""

    key_id: int
    user_id: int
    last_used_at: datetime | None
    digest: str  # the key's SHA-256 (hex): what the cache's marker of the key is named by

    def needs_touch(self, now: datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_PRECISION


def new_key() -> str:
    return secrets.token_hex(KEY_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_digest(key: str) -> str | None:
    """The stored hash of the key as presented (trimmed, any case), or None when it does not
    even have the shape of a key."""
    key = key.strip().lower()
    return hash_key(key) if _KEY_SHAPE.fullmatch(key) else None


async def create(session: AsyncSession, user_id: int, name: str) -> tuple[ApiKey, str]:
    """A new key for this user: the row, and the key itself (which only its hash keeps)."""
    if await _active_count(session, user_id) >= MAX_ACTIVE_KEYS:
        raise Conflict(
            f"At most {MAX_ACTIVE_KEYS} API keys per account: revoke one first", "too_many_api_keys"
        )
    key = new_key()
    fields = {"user_id": user_id, "name": name, "key_prefix": key[:PREFIX_LENGTH]}
    row = ApiKey.model_validate({**fields, "key_hash": hash_key(key)})
    session.add(row)
    await session.flush()
    return row, key


async def create_for_email(session: AsyncSession, email: str, name: str) -> tuple[ApiKey, str]:
    """The operator's way (`marquee create-api-key`): a key for the account with this email."""
    user = await find_by_email(session, email)
    if user is None or user.id is None:
        raise NotFound(f"No account with the email {email!r}", "user_not_found")
    return await create(session, user.id, name)


async def _active_count(session: AsyncSession, user_id: int) -> int:
    stmt = select(func.count()).select_from(ApiKey).where(*_active_of(user_id))
    return int((await session.execute(stmt)).scalar_one())


def _active_of(user_id: int) -> tuple[ColumnElement[bool], ...]:
    return col(ApiKey.user_id) == user_id, col(ApiKey.revoked_at).is_(None)


async def list_active(session: AsyncSession, user_id: int) -> list[ApiKey]:
    """The user's keys that work, newest first."""
    stmt = (
        select(ApiKey)
        .where(*_active_of(user_id))
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    )
    return list((await session.execute(stmt)).scalars())


async def revoke(session: AsyncSession, user_id: int, key_id: int) -> None:
    """Revoke one of the user's keys; another user's key, or one already revoked, is not found
    (so key ids of other accounts reveal nothing)."""
    stmt = select(ApiKey).where(col(ApiKey.id) == key_id, *_active_of(user_id))
    row = (await session.execute(stmt)).scalars().first()
    if row is None:
        raise NotFound("No such API key", "api_key_not_found")
    row.revoked_at = utcnow()
    await session.flush()
    invalidate_after_commit(session, [key_scope(row.key_hash)])


async def forget_all(session: AsyncSession, user_id: int) -> None:
    """Bump the cache's markers of the user's keys once the transaction commits: for a change
    that ends them all (the account's deletion takes their rows with it)."""
    stmt = select(col(ApiKey.key_hash)).where(*_active_of(user_id))
    digests = (await session.execute(stmt)).scalars().all()
    invalidate_after_commit(session, [key_scope(digest) for digest in digests])


async def find_active(session: AsyncSession, key: str) -> KeyHolder | None:
    """Whose key this is, if it is one that works (never revoked)."""
    digest = key_digest(key)
    if digest is None:
        return None  # not even the shape of a key: no query
    stmt = select(col(ApiKey.id), col(ApiKey.user_id), col(ApiKey.last_used_at)).where(
        col(ApiKey.key_hash) == digest, col(ApiKey.revoked_at).is_(None)
    )
    row = (await session.execute(stmt)).first()
    if row is None or row[0] is None:
        return None
    return KeyHolder(key_id=row[0], user_id=row[1], last_used_at=row[2], digest=digest)


async def touch(session: AsyncSession, key_id: int, now: datetime) -> None:
    """Record a use at `now` unless a use within LAST_USED_PRECISION is already stored (so
    processes that race here write once)."""
    recent = now - LAST_USED_PRECISION
    stale = or_(col(ApiKey.last_used_at).is_(None), col(ApiKey.last_used_at) <= recent)
    stmt = update(ApiKey).where(col(ApiKey.id) == key_id, stale).values(last_used_at=now)
    await session.execute(stmt)
