"""`marquee create-api-key --email E --name N`: prints a working key once; the account's keys
go when the account goes. It commits to the test database: each test removes its account."""

import asyncio
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from typer.testing import CliRunner

from api.settings import Settings, get_settings
from api.users.api_keys import hash_key
from api.users.models import ApiKey, User
from tests.conftest import PASSWORD_HASH


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", settings.DATABASE_URL)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def marquee(*args: str) -> Any:
    from worker.cli import app as cli

    # The command runs its own event loop: give it a thread without one.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


@pytest.fixture
async def account(engine: AsyncEngine) -> Any:
    email = f"cli-{uuid.uuid4().hex[:10]}@example.com"
    async with AsyncSession(engine, expire_on_commit=False) as session:
        user = User.model_validate(
            {"email": email, "password_hash": PASSWORD_HASH, "display_name": "Op"}
        )
        session.add(user)
        await session.commit()
        user_id = user.id
    yield email, user_id
    async with engine.begin() as conn:
        await conn.execute(delete(User).where(col(User.id) == user_id))


async def keys_of(engine: AsyncEngine, user_id: int) -> list[Any]:
    async with engine.connect() as conn:
        stmt = select(ApiKey.name, ApiKey.key_hash).where(col(ApiKey.user_id) == user_id)
        return list((await conn.execute(stmt)).all())


class TestCreateApiKeyCommand:
    async def test_prints_a_key_stored_hashed_for_the_account(
        self, cli_env: None, engine: AsyncEngine, account: Any
    ) -> None:
        email, user_id = account
        result = await marquee("create-api-key", "--email", email.upper(), "--name", "Kodi")
        assert result.exit_code == 0, result.output
        key = result.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"[0-9a-f]{32}", key)
        assert await keys_of(engine, user_id) == [("Kodi", hash_key(key))]

    async def test_an_unknown_email_fails_and_creates_nothing(
        self, cli_env: None, engine: AsyncEngine
    ) -> None:
        result = await marquee("create-api-key", "--email", "nobody@example.com", "--name", "x")
        assert result.exit_code == 1
        assert "No account" in result.output

    async def test_an_empty_name_is_refused(
        self, cli_env: None, engine: AsyncEngine, account: Any
    ) -> None:
        email, user_id = account
        result = await marquee("create-api-key", "--email", email, "--name", "  ")
        assert result.exit_code != 0
        assert await keys_of(engine, user_id) == []

    async def test_the_keys_go_when_the_account_is_deleted(
        self, cli_env: None, engine: AsyncEngine, account: Any
    ) -> None:
        email, user_id = account
        assert (await marquee("create-api-key", "--email", email, "--name", "a")).exit_code == 0
        async with engine.begin() as conn:
            await conn.execute(delete(User).where(col(User.id) == user_id))
        assert await keys_of(engine, user_id) == []
