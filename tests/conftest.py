"""Shared fixtures: a migrated MariaDB database, the app with its lifespan, a rolled-back
transaction per test, an HTTP client, and users with tokens."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from api.db import make_engine, make_sessionmaker
from api.main import create_app
from api.settings import Settings
from api.users.models import User
from api.users.security import create_access_token, hash_password
from worker.cli import alembic_config

pytest_plugins = ["tests.meili_fixtures"]

# A database of its own per run, so two runs on one server (a developer's and CI's) never collide.
RUN_ID = uuid.uuid4().hex[:8]
TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", f"mysql+asyncmy://root:@127.0.0.1:3306/marquee_test_{RUN_ID}"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
UTF8MB4 = "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD_HASH = hash_password("password123")


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    server = make_engine(parsed.set(database="").render_as_string(hide_password=False))
    async with server.begin() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS `{parsed.database}`"))
    await server.dispose()


async def recreate_database(url: str) -> None:
    """Drop and create the test database (MySQL), or remove the SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).unlink(missing_ok=True)  # noqa: ASYNC240 - test set-up
        return
    server = make_engine(parsed.set(database="").render_as_string(hide_password=False))
    async with server.begin() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS `{parsed.database}`"))
        await conn.execute(text(f"CREATE DATABASE `{parsed.database}` {UTF8MB4}"))
    await server.dispose()


async def migrate(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)


@pytest.fixture(scope="session")
async def settings(meili_server) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        ENVIRONMENT="test",
        DATABASE_URL=TEST_DATABASE_URL,
        REDIS_URL=TEST_REDIS_URL,
        MEILI_URL=meili_server.url,
        MEILI_MASTER_KEY=meili_server.master_key,
        MEILI_INDEX=f"movies_test_{uuid.uuid4().hex[:8]}",
        SECRET_KEY=SECRET,
        # Tests write rows directly and roll them back, which no cache version sees: the
        # cache is off here and on in tests/api/test_cache.py, which controls its writes.
        CACHE_TTL_SECONDS=0,
        ADMIN_EMAIL=None,
        ADMIN_PASSWORD=None,
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    await recreate_database(settings.DATABASE_URL)
    await migrate(settings.DATABASE_URL)
    engine = make_engine(settings.DATABASE_URL)
    yield engine
    await engine.dispose()
    await drop_database(settings.DATABASE_URL)


@pytest.fixture(scope="session")
async def app(settings: Settings, engine: AsyncEngine):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection per test inside a transaction that is rolled back at the end."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        if transaction.is_active:
            await transaction.rollback()


@pytest.fixture
async def db(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session on the test's connection: its commits are savepoints, undone after the test."""
    async with make_sessionmaker(connection, join_transaction_mode="create_savepoint")() as session:
        yield session


@pytest.fixture
async def client(app, connection: AsyncConnection) -> AsyncIterator[AsyncClient]:  # type: ignore[no-untyped-def]
    """HTTP client whose requests run on the test's connection (rolled back afterwards)."""
    real = app.state.sessionmaker
    app.state.sessionmaker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    app.state.sessionmaker = real


@dataclass
class Account:
    user: User
    headers: dict[str, str]

    @property
    def id(self) -> int:
        assert self.user.id is not None
        return self.user.id


MakeAccount = Callable[..., Awaitable[Account]]


@pytest.fixture
def make_account(db: AsyncSession) -> MakeAccount:
    async def make(is_admin: bool = False, email: str | None = None) -> Account:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        fields = {"email": email, "password_hash": PASSWORD_HASH, "display_name": email[:20]}
        user = User.model_validate({**fields, "is_admin": is_admin})
        db.add(user)
        await db.commit()
        assert user.id is not None
        token = create_access_token(user.id, SECRET, 60)
        return Account(user=user, headers={"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture
async def user(make_account: MakeAccount) -> Account:
    return await make_account()


@pytest.fixture
async def admin(make_account: MakeAccount) -> Account:
    return await make_account(is_admin=True)


@pytest.fixture
async def cache_on(app):  # type: ignore[no-untyped-def]
    """The Redis cache switched on for this test, starting empty (it is off by default)."""
    from api.cache import PREFIX, Cache

    async def clear() -> None:
        keys = [key async for key in app.state.redis.scan_iter(match=f"{PREFIX}:*")]
        if keys:
            await app.state.redis.delete(*keys)

    real = app.state.cache
    app.state.cache = Cache(app.state.redis, 300, real.pipe)
    await clear()
    yield app.state.cache
    await clear()
    app.state.cache = real
