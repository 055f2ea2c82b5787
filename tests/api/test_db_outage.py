"""Database outages: 503 database_unavailable with Retry-After; a refused statement is no outage."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from api.db import make_engine
from api.deps import SessionDep
from api.handlers import database_unreachable
from api.main import create_app
from api.settings import Settings
from tests.conftest import TEST_DATABASE_URL

# Nothing listens on port 1: every connection attempt is refused.
UNREACHABLE_URL = "mysql+asyncmy://root:@127.0.0.1:1/nowhere"
UNAVAILABLE = {
    "detail": "The database is unavailable; try again shortly",
    "code": "database_unavailable",
}


@pytest.fixture(scope="module")
async def down_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    """The app, lifespan and all, pointed at a database that refuses connections (the
    lifespan itself does not touch the database, so the app starts)."""
    app = create_app(settings.model_copy(update={"DATABASE_URL": UNREACHABLE_URL}))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app), base_url="http://test") as http,
    ):
        yield http


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == UNAVAILABLE
    assert response.headers["retry-after"] == "5"
    assert "127.0.0.1" not in response.text


class TestDatabaseOutage:
    @pytest.mark.parametrize("path", ["/movies", "/movies/1", "/genres"])
    async def test_uncached_read_answers_503(self, down_client: AsyncClient, path: str) -> None:
        assert_unavailable(await down_client.get(path))

    async def test_write_answers_503(self, down_client: AsyncClient) -> None:
        body = {"email": "outage@example.com", "password": "correct horse", "display_name": "O"}
        assert_unavailable(await down_client.post("/auth/register", json=body))

    async def test_health_still_answers(self, down_client: AsyncClient) -> None:
        assert (await down_client.get("/health")).status_code == 200

    async def test_a_refused_statement_stays_a_500(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        """(`engine`: the test database exists and is migrated.)"""
        app = create_app(settings)

        async def broken(session: SessionDep) -> None:
            await session.execute(text("SELECT no_such_column FROM movie"))  # OperationalError

        app.add_api_route("/broken", broken)
        transport = ASGITransport(app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=transport, base_url="http://test") as http,
        ):
            response = await http.get("/broken")
        assert response.status_code == 500
        assert response.json()["code"] == "internal_error"


async def refused() -> Any:
    raise ConnectionRefusedError(111, "Connection refused")


# Whatever a database call may raise: which of these is an outage is what is under test.
DATABASE_ERRORS = (DBAPIError, PoolTimeout, OSError)


async def connect_error(engine: AsyncEngine) -> BaseException:
    with pytest.raises(DATABASE_ERRORS) as caught:
        async with engine.connect():
            pass
    return caught.value


async def statement_error(conn: AsyncConnection, sql: str) -> BaseException:
    """What `sql` raises, in a savepoint so the test's transaction goes on."""
    nested = await conn.begin_nested()
    with pytest.raises(DATABASE_ERRORS) as caught:
        await conn.execute(text(sql))
    if nested.is_active:
        await nested.rollback()
    return caught.value


class TestDatabaseUnreachable:
    async def test_refused_connection_is_an_outage(self) -> None:
        engine = make_engine(UNREACHABLE_URL)
        try:
            exc = await connect_error(engine)
        finally:
            await engine.dispose()
        assert database_unreachable(exc)

    async def test_killed_connection_is_an_outage(self, engine: AsyncEngine) -> None:
        async with engine.connect() as victim, engine.connect() as killer:
            victim_id = (await victim.execute(text("SELECT CONNECTION_ID()"))).scalar_one()
            await killer.execute(text(f"KILL CONNECTION {int(victim_id)}"))
            with pytest.raises(DATABASE_ERRORS) as caught:
                await victim.execute(text("SELECT 1"))
        assert database_unreachable(caught.value)

    async def test_exhausted_pool_is_an_outage(self) -> None:
        engine = make_engine(TEST_DATABASE_URL, pool_size=1, max_overflow=0, pool_timeout=0.1)
        try:
            async with engine.connect():
                exc = await connect_error(engine)
        finally:
            await engine.dispose()
        assert database_unreachable(exc)

    async def test_socket_error_through_the_driver_is_an_outage(self) -> None:
        # SQLAlchemy wraps only DB-API errors: a socket error while connecting comes up as is.
        engine = create_async_engine("mysql+asyncmy://", async_creator=refused)
        try:
            exc = await connect_error(engine)
        finally:
            await engine.dispose()
        assert isinstance(exc, ConnectionRefusedError)
        assert database_unreachable(exc)

    async def test_socket_error_elsewhere_is_not_a_database_outage(self) -> None:
        with pytest.raises(ConnectionRefusedError) as caught:
            await refused()
        assert not database_unreachable(caught.value)

    @pytest.mark.parametrize(
        "sql",
        [
            "SELECT no_such_column FROM movie",  # asyncmy: OperationalError 1054
            "SIGNAL SQLSTATE '45000'",  # asyncmy: OperationalError 1644
            "SELECT * FROM no_such_table",  # ProgrammingError
        ],
    )
    async def test_a_refused_statement_is_not_an_outage(
        self, connection: AsyncConnection, sql: str
    ) -> None:
        exc = await statement_error(connection, sql)
        assert isinstance(exc, DBAPIError)
        assert not database_unreachable(exc)

    async def test_duplicate_key_is_not_an_outage(self, connection: AsyncConnection) -> None:
        insert = "INSERT INTO genre (id, name) VALUES (987654321, 'outage-test')"
        await connection.execute(text(insert))
        exc = await statement_error(connection, insert)
        assert isinstance(exc, IntegrityError)
        assert not database_unreachable(exc)
