"""What a test run shares (tests/services.py): a MariaDB only if it lets root in, and a
database of a shared Redis that no other run holds."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import text

from api.db import make_engine
from devstack.servers import Controlled, controlled_redis, mariadb_installed, start_mariadb
from tests.services import LEASE_KEY, MARK_KEY, RUN_ID, RedisClaim, takes_root

# Root over unix_socket only, as on a stock Debian install.
SOCKET_ONLY_ROOT = "; ".join(
    f"ALTER USER root@'{host}' IDENTIFIED VIA unix_socket" for host in ("localhost", "127.0.0.1")
)


@pytest.mark.skipif(not mariadb_installed(), reason="no MariaDB server installed")
class TestSharedMariaDB:
    async def test_a_server_that_refuses_root_is_not_taken(self, tmp_path: Path) -> None:
        service = start_mariadb(tmp_path)
        port = int(service.url.rsplit(":", 1)[1])
        try:
            assert takes_root("127.0.0.1", port)
            engine = make_engine(f"{service.url}/mysql")
            async with engine.begin() as conn:
                await conn.execute(text(SOCKET_ONLY_ROOT))
            await engine.dispose()
            assert not takes_root("127.0.0.1", port)
        finally:
            service.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Controlled]:
    server = controlled_redis(tmp_path / "redis")
    yield server
    server.stop()


def database(server: Controlled, db: int) -> Redis:
    host, port = server.url.removeprefix("redis://").split(":")
    return Redis(host=host, port=int(port), db=db)


def claim(server: Controlled) -> RedisClaim:
    host, port = server.url.removeprefix("redis://").split(":")
    taken = RedisClaim.take_one(host, int(port))
    assert taken is not None
    return taken


class TestRedisClaim:
    def test_two_runs_take_different_databases(self, redis_server: Controlled) -> None:
        first, second = claim(redis_server), claim(redis_server)
        try:
            assert first.db != second.db
        finally:
            first.release()
            second.release()

    def test_a_database_holding_someone_elses_keys_is_left_alone(
        self, redis_server: Controlled
    ) -> None:
        first = claim(redis_server)
        first.release()
        with database(redis_server, first.db) as other:
            other.set("someone:else", "1")
            taken = claim(redis_server)
            try:
                assert taken.db != first.db
                assert other.get("someone:else") == b"1" and other.dbsize() == 1
            finally:
                taken.release()

    def test_a_dead_runs_database_is_emptied_and_taken(self, redis_server: Controlled) -> None:
        first = claim(redis_server)
        first.release()
        with database(redis_server, first.db) as left:
            left.set(MARK_KEY, "1")  # what a run that died left: its mark, keys, no lease
            left.set("mq:cache:v:catalog", "old")
            taken = claim(redis_server)
            try:
                assert taken.db == first.db
                assert left.get("mq:cache:v:catalog") is None
                assert left.get(LEASE_KEY) == RUN_ID.encode()
            finally:
                taken.release()

    def test_release_empties_its_database_only(self, redis_server: Controlled) -> None:
        taken = claim(redis_server)
        with database(redis_server, taken.db) as mine, database(redis_server, 0) as other:
            mine.set("arq:queue", "jobs")
            other.set("kept", "1")
            taken.release()
            assert mine.dbsize() == 0
            assert other.get("kept") == b"1"
