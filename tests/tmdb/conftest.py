"""/3 fixtures: the API tests' catalog builders (and their fresh cache per test with
--api-cache), API keys made for an account on the test's rolled-back transaction, and real
servers for the TMDB clients (tests.tmdb.live) and the clients themselves (tests.tmdb.clients)."""

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.users import api_keys
from tests.api.conftest import catalog, fresh_cache  # noqa: F401 - fixtures for tests/tmdb
from tests.conftest import Account
from tests.tmdb.clients import (  # noqa: F401 - fixtures for tests/tmdb
    aio_moviedb,
    kometa,
    moviedb,
    simple,
    v3,
)
from tests.tmdb.live import server, tmdb_server  # noqa: F401 - fixtures for tests/tmdb

MakeKey = Callable[..., Awaitable[tuple[int, str]]]


@pytest.fixture
def make_key(db: AsyncSession) -> MakeKey:
    """A key for the account: (its id, the key itself)."""

    async def make(account: Account, name: str = "test app") -> tuple[int, str]:
        row, key = await api_keys.create(db, account.id, name)
        await db.commit()
        assert row.id is not None
        return row.id, key

    return make


@pytest.fixture
async def api_key(user: Account, make_key: MakeKey) -> str:
    """A working key of the `user` account."""
    return (await make_key(user))[1]
