"""API keys through the native API (POST/GET/DELETE /users/me/api-keys): shown once, stored
hashed, revoked at once, other accounts' keys out of reach, `last_used_at` without a write
per request, and gone with their account."""

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.types import utcnow
from api.users import api_keys
from api.users.models import ApiKey, User
from tests.conftest import Account, MakeAccount
from tests.tmdb.conftest import MakeKey

KEYS = "/users/me/api-keys"
GENRES = "/3/genre/movie/list"


async def create_key(client: AsyncClient, account: Account, name: str = "my app") -> Any:
    return await client.post(KEYS, json={"name": name}, headers=account.headers)


async def stored(db: AsyncSession, key_id: int) -> Any:
    stmt = select(ApiKey.key_hash, ApiKey.last_used_at, ApiKey.revoked_at).where(
        col(ApiKey.id) == key_id
    )
    return (await db.execute(stmt)).one_or_none()


class TestCreateApiKey:
    async def test_create_returns_201_with_the_key_shown_once(
        self, client: AsyncClient, user: Account
    ) -> None:
        response = await create_key(client, user, "  Kodi plugin  ")
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"id", "name", "api_key", "created_at"}
        assert body["name"] == "Kodi plugin"
        assert re.fullmatch(r"[0-9a-f]{32}", body["api_key"])
        assert isinstance(body["id"], int)

    async def test_only_the_sha256_of_the_key_is_stored(
        self, client: AsyncClient, user: Account, db: AsyncSession
    ) -> None:
        body = (await create_key(client, user)).json()
        row = await stored(db, body["id"])
        assert row.key_hash == hashlib.sha256(body["api_key"].encode()).hexdigest()
        columns = (await db.execute(select(ApiKey).where(col(ApiKey.id) == body["id"]))).one()
        assert body["api_key"] not in repr(columns[0].model_dump())

    async def test_without_a_token_returns_401(self, client: AsyncClient) -> None:
        response = await client.post(KEYS, json={"name": "x"})
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"

    @pytest.mark.parametrize("name", ["", "   ", "x" * 101])
    async def test_a_bad_name_returns_422(
        self, client: AsyncClient, user: Account, name: str
    ) -> None:
        response = await create_key(client, user, name)
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"

    async def test_past_the_limit_of_active_keys_returns_409(
        self, client: AsyncClient, user: Account, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(api_keys, "MAX_ACTIVE_KEYS", 2)
        for _ in range(2):
            assert (await create_key(client, user)).status_code == 201
        response = await create_key(client, user)
        assert response.status_code == 409
        assert response.json()["code"] == "too_many_api_keys"


class TestListApiKeys:
    async def test_lists_own_active_keys_newest_first_without_secrets(
        self, client: AsyncClient, user: Account, make_account: MakeAccount, make_key: MakeKey
    ) -> None:
        other = await make_account()
        await make_key(other, "not mine")
        first = (await create_key(client, user, "first")).json()
        second = (await create_key(client, user, "second")).json()
        response = await client.get(KEYS, headers=user.headers)
        assert response.status_code == 200
        listed = response.json()
        assert [k["id"] for k in listed] == [second["id"], first["id"]]
        assert set(listed[0]) == {"id", "name", "created_at", "last_used_at", "key_prefix"}
        assert listed[0]["key_prefix"] == second["api_key"][:8]
        assert listed[0]["last_used_at"] is None
        assert second["api_key"] not in response.text
        assert response.headers["cache-control"] == "private, no-store"

    async def test_revoked_keys_are_not_listed(
        self, client: AsyncClient, user: Account, make_key: MakeKey
    ) -> None:
        key_id, _ = await make_key(user)
        await client.delete(f"{KEYS}/{key_id}", headers=user.headers)
        assert (await client.get(KEYS, headers=user.headers)).json() == []


class TestRevokeApiKey:
    async def test_revoke_returns_204_and_the_key_fails_at_once(
        self, client: AsyncClient, user: Account, make_key: MakeKey
    ) -> None:
        key_id, key = await make_key(user)
        assert (await client.get(GENRES, params={"api_key": key})).status_code == 200
        response = await client.delete(f"{KEYS}/{key_id}", headers=user.headers)
        assert response.status_code == 204
        refused = await client.get(GENRES, params={"api_key": key})
        assert refused.status_code == 401
        assert refused.json()["status_code"] == 7

    async def test_another_users_key_returns_404_and_keeps_working(
        self, client: AsyncClient, user: Account, make_account: MakeAccount, make_key: MakeKey
    ) -> None:
        other = await make_account()
        key_id, key = await make_key(other)
        response = await client.delete(f"{KEYS}/{key_id}", headers=user.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "api_key_not_found"
        assert (await client.get(GENRES, params={"api_key": key})).status_code == 200

    async def test_an_unknown_or_already_revoked_key_returns_404(
        self, client: AsyncClient, user: Account, make_key: MakeKey
    ) -> None:
        key_id, _ = await make_key(user)
        assert (await client.delete(f"{KEYS}/{key_id}", headers=user.headers)).status_code == 204
        again = await client.delete(f"{KEYS}/{key_id}", headers=user.headers)
        assert again.status_code == 404
        unknown = await client.delete(f"{KEYS}/2147483000", headers=user.headers)
        assert unknown.status_code == 404


class TestLastUsedAt:
    async def test_first_use_records_last_used_at(
        self, client: AsyncClient, user: Account, make_key: MakeKey, db: AsyncSession
    ) -> None:
        key_id, key = await make_key(user)
        before = utcnow()
        assert (await client.get(GENRES, params={"api_key": key})).status_code == 200
        used = (await stored(db, key_id)).last_used_at
        assert used is not None and used >= before - timedelta(seconds=1)
        listed = (await client.get(KEYS, headers=user.headers)).json()
        assert listed[0]["last_used_at"] is not None

    async def test_a_use_within_a_minute_of_the_last_writes_nothing(
        self, client: AsyncClient, user: Account, make_key: MakeKey, db: AsyncSession
    ) -> None:
        key_id, key = await make_key(user)
        recent = utcnow() - timedelta(seconds=30)
        await db.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=recent))
        await db.commit()
        for _ in range(3):
            assert (await client.get(GENRES, params={"api_key": key})).status_code == 200
        assert (await stored(db, key_id)).last_used_at == recent

    async def test_a_use_after_a_minute_is_recorded(
        self, client: AsyncClient, user: Account, make_key: MakeKey, db: AsyncSession
    ) -> None:
        key_id, key = await make_key(user)
        old = utcnow() - timedelta(minutes=5)
        await db.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=old))
        await db.commit()
        assert (await client.get(GENRES, params={"api_key": key})).status_code == 200
        assert (await stored(db, key_id)).last_used_at > old + timedelta(minutes=4)


class TestAccountDeletion:
    async def test_keys_go_with_their_account(
        self, user: Account, make_key: MakeKey, db: AsyncSession
    ) -> None:
        key_id, _ = await make_key(user)
        await db.execute(delete(User).where(col(User.id) == user.id))
        await db.commit()
        assert await stored(db, key_id) is None
