"""Shared fixtures: a migrated MariaDB database, the app with its lifespan, a rolled-back
transaction per test, an HTTP client, and users with tokens. Which MariaDB and Redis the run
uses (and starts, when none answers) is tests/services.py's choice."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from api.cache import PREFIX, Cache
from api.db import make_engine, make_sessionmaker
from api.main import create_app
from api.settings import Settings
from api.users.models import User
from api.users.security import create_access_token, hash_password
from tests.services import NO_MARIADB, RunServices, needs_mariadb_server
from worker.cli import alembic_config

pytest_plugins = ["tests.meili_fixtures", "tests.catalogs"]

SERVICES = RunServices()
# Tests over the TMDB catalog (the session imports and indexes it, and some rebuild its indexes
# again) take minutes on a busy machine with coverage on: longer than the default timeout.
TMDB_TIMEOUT = 300
# Cache time-to-live with --api-cache (the API tests' second run); 0 turns the cache off.
API_CACHE_TTL = 300


def __getattr__(name: str) -> str:
    """TEST_DATABASE_URL (a database of this run's own) and TEST_REDIS_URL (a Redis database
    of this run's own): resolved, and servers started if need be, when first read."""
    if name == "TEST_DATABASE_URL":
        return SERVICES.database_url()
    if name == "TEST_REDIS_URL":
        return SERVICES.redis_url()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--api-cache",
        action="store_true",
        help="run with the API's Redis cache on (the default run has it off)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses_tmdb = "tmdb_settings" in getattr(item, "fixturenames", ())
        if uses_tmdb and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TMDB_TIMEOUT))


def pytest_sessionstart(session: pytest.Session) -> None:
    if needs_mariadb_server():  # said once, before test modules read the database URL
        pytest.exit(NO_MARIADB, returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SERVICES.used:
        terminalreporter.write_line("services: " + "; ".join(SERVICES.used))


def pytest_unconfigure(config: pytest.Config) -> None:
    SERVICES.close()


UTF8MB4 = "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
ROOMY_LIMIT = "100000/minute"
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
def api_cache(pytestconfig: pytest.Config) -> bool:
    """Whether this run has the API's cache on (--api-cache)."""
    return bool(pytestconfig.getoption("--api-cache"))


@pytest.fixture(scope="session")
async def settings(meili_server, api_cache: bool) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        ENVIRONMENT="test",
        DATABASE_URL=SERVICES.database_url(),
        REDIS_URL=SERVICES.redis_url(),
        MEILI_URL=meili_server.url,
        MEILI_MASTER_KEY=meili_server.master_key,
        MEILI_INDEX=f"movies_test_{uuid.uuid4().hex[:8]}",
        SECRET_KEY=SECRET,
        # Off by default (tests write rows directly and roll them back, which no cache version
        # sees): tests/api/test_cache.py turns it on for what it checks. With --api-cache it is
        # on throughout, and tests/api/conftest.py keeps it honest (`fresh_cache`, `Catalog`).
        CACHE_TTL_SECONDS=API_CACHE_TTL if api_cache else 0,
        ADMIN_EMAIL=None,
        ADMIN_PASSWORD=None,
        # Every test signs in and registers from one address: the limits' own tests
        # (tests/api/test_rate_limits.py) install tight ones where they check them.
        RATE_LIMIT_LOGIN_ACCOUNT=ROOMY_LIMIT,
        RATE_LIMIT_LOGIN_ADDRESS=ROOMY_LIMIT,
        RATE_LIMIT_REGISTER_ADDRESS=ROOMY_LIMIT,
        RATE_LIMIT_API_KEY=ROOMY_LIMIT,
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


async def clear_cache(redis: Redis) -> None:
    """Delete every cache entry and version in this run's Redis database (its own: see
    tests/services.py), so no answer built from another test's rolled-back rows is served."""
    keys = [key async for key in redis.scan_iter(match=f"{PREFIX}:*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
async def cache_on(app):  # type: ignore[no-untyped-def]
    """The Redis cache switched on for this test, starting empty (it is off by default)."""
    real = app.state.cache
    app.state.cache = Cache(app.state.redis, API_CACHE_TTL, real.pipe)
    await clear_cache(app.state.redis)
    yield app.state.cache
    await clear_cache(app.state.redis)
    app.state.cache = real
