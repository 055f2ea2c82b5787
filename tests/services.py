"""The MariaDB and Redis a test run uses: the configured ones (TEST_DATABASE_URL, TEST_REDIS_URL),
else the ones answering on their usual ports, else throwaway servers the run starts, and stops and
removes at its end (or, if the run dies, when its servers see their parent go). On a shared Redis
the run takes a database of its own (`RedisClaim`), so it never empties one another run uses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncmy
import asyncmy.errors
import pytest
from redis import Redis, RedisError, ResponseError

from devstack.servers import controlled_redis, mariadb_installed, mysql_answers, start_mariadb

RUN_ID = uuid.uuid4().hex[:8]
HOST = "127.0.0.1"
MARIADB_PORT = 3306
REDIS_PORT = 6379
# Set to 1 to start throwaway servers even where shared ones answer (how the throwaway path is
# tested on a machine that has both).
FORCE_THROWAWAY = "TEST_THROWAWAY_SERVICES"
NO_MARIADB = (
    "no test database: TEST_DATABASE_URL is not set, nothing answers on 127.0.0.1:3306, and "
    "no MariaDB server is installed to start one (mariadbd and mariadb-install-db, on PATH or "
    "in /usr/sbin). Install it (Debian: apt-get install mariadb-server; `make test` does this "
    "by itself as root on Debian), or set TEST_DATABASE_URL."
)
ROOT_REFUSED = (
    "no test database: the MariaDB on 127.0.0.1:3306 refuses root without a password, and no "
    "MariaDB server is installed to start one of the tests' own. Set TEST_DATABASE_URL, let "
    "root in over TCP (ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING "
    "PASSWORD('') OR unix_socket), or install mariadb-server."
)
# Temporary directories of this module's servers; the file in each names the owning process.
TEMP_PREFIX = "marquee-test-"
OWNER_FILE = "owner.pid"


def forced_throwaway() -> bool:
    return os.environ.get(FORCE_THROWAWAY, "") not in ("", "0")


class RunServices:
    """Resolved once per run, on first use; `close()` stops what was started."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._database_url: str | None = None
        self._redis_url: str | None = None
        self.used: list[str] = []  # what the run used, for its summary

    def database_url(self) -> str:
        if self._database_url is None:
            configured = os.environ.get("TEST_DATABASE_URL")
            if configured:
                self.used.append("MariaDB: TEST_DATABASE_URL")
            self._database_url = configured or f"{self._mariadb_server()}/marquee_test_{RUN_ID}"
        return self._database_url

    def redis_url(self) -> str:
        if self._redis_url is None:
            configured = os.environ.get("TEST_REDIS_URL")
            if configured:
                self.used.append("Redis: TEST_REDIS_URL")
            self._redis_url = configured or self._shared_redis() or self._throwaway_redis()
        return self._redis_url

    def close(self) -> None:
        self._stack.close()

    def _mariadb_server(self) -> str:
        shared = f"mysql+asyncmy://root:@{HOST}:{MARIADB_PORT}"
        refused = False
        if not forced_throwaway() and mysql_answers(HOST, MARIADB_PORT):
            if takes_root(HOST, MARIADB_PORT):
                self.used.append(f"MariaDB: the one on {HOST}:{MARIADB_PORT}")
                return shared
            refused = True  # a stock Debian server lets root in over its unix socket only
        if not mariadb_installed():  # `make test` installs it where it can (the Makefile)
            pytest.exit(ROOT_REFUSED if refused else NO_MARIADB, pytest.ExitCode.USAGE_ERROR)
        service = start_mariadb(self._temp_dir("mariadb"))
        self._stack.callback(service.stop)
        why = f" ({HOST}:{MARIADB_PORT} refuses root without a password)" if refused else ""
        self.used.append(f"MariaDB: a throwaway server at {service.url.split('@')[1]}{why}")
        return service.url

    def _shared_redis(self) -> str | None:
        if forced_throwaway() or not redis_answers(HOST, REDIS_PORT):
            return None
        claim = RedisClaim.take_one(HOST, REDIS_PORT)
        if claim is None:
            return None  # every database is in use: a server of the run's own, then
        self._stack.callback(claim.release)
        self.used.append(f"Redis: database {claim.db} of the one on {HOST}:{REDIS_PORT}")
        return claim.url

    def _throwaway_redis(self) -> str:
        server = controlled_redis(self._temp_dir("redis"))
        self._stack.callback(server.stop)
        self.used.append(f"Redis: a throwaway server at {server.url.removeprefix('redis://')}")
        return f"{server.url}/0"

    def _temp_dir(self, name: str) -> Path:
        path = owned_temp_dir(name)
        # Registered first, so it runs after the server that lives in it has stopped.
        self._stack.callback(shutil.rmtree, path, ignore_errors=True)
        return path


def owned_temp_dir(name: str) -> Path:
    """A new temporary directory for a server of this run, marked with the run's process id
    so that a later run removes it if this one dies before it does."""
    remove_abandoned_dirs()
    path = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{name}-"))
    (path / OWNER_FILE).write_text(str(os.getpid()))
    return path


def remove_abandoned_dirs() -> None:
    """Remove the directories of runs that died without cleaning up (their servers died with
    them: see devstack.servers.die_with_parent)."""
    for path in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        try:
            owner = int((path / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if not process_exists(owner):
            shutil.rmtree(path, ignore_errors=True)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


def takes_root(host: str, port: int) -> bool:
    """Whether the MySQL server at host:port lets root in without a password (over TCP)."""

    async def sign_in() -> None:
        conn = await asyncmy.connect(host=host, port=port, user="root", connect_timeout=5)
        conn.close()

    # In a thread of its own: the caller may be inside the tests' running event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pool.submit(asyncio.run, sign_in()).result()
        except (asyncmy.errors.MySQLError, OSError):
            return False
    return True


def redis_answers(host: str, port: int) -> bool:
    try:
        with Redis(host=host, port=port, socket_timeout=1.0, socket_connect_timeout=1.0) as client:
            return bool(client.ping())
    except (RedisError, OSError):
        return False


# Which run holds a database: expires unless the run keeps renewing it.
LEASE_KEY = "marquee:test-run"
LEASE_SECONDS = 60
# Renews the lease only while it is this run's (a run paused past it may have lost it).
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Marks a database as the test runs': one found without a lease is a dead run's, and emptied.
MARK_KEY = "marquee:test-database"
# Databases a run may take: not 0 (everyone's default), nor 12 and 13 (the benchmarks empty them).
CANDIDATE_DATABASES = (9, 10, 11, 14, 15, 1, 2, 3, 4, 5, 6, 7, 8)


class RedisClaim:
    """A database of a shared Redis held by this run: empty, or left by a dead run, when taken;
    held by a lease renewed in the background; emptied when released."""

    def __init__(self, client: Redis, host: str, port: int, db: int) -> None:
        self.db = db
        self.url = f"redis://{host}:{port}/{db}"
        self._client = client
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, name="redis-lease", daemon=True)
        self._renewer.start()

    @classmethod
    def take_one(cls, host: str, port: int) -> RedisClaim | None:
        for db in CANDIDATE_DATABASES:
            client = Redis(host=host, port=port, db=db, socket_timeout=5.0)
            try:
                if take(client):
                    return cls(client, host, port, db)
            except ResponseError:  # a server with fewer databases
                client.close()
                return None
            client.close()
        return None

    def release(self) -> None:
        self._stop.set()
        self._renewer.join()
        try:
            if self._client.get(LEASE_KEY) == RUN_ID.encode():
                self._client.flushdb()  # held by this run until now: nobody else's keys
        finally:
            self._client.close()

    def _renew(self) -> None:
        while not self._stop.wait(LEASE_SECONDS / 4):
            # A Redis blip: the next round tries again, well within the lease.
            with contextlib.suppress(RedisError):
                self._client.eval(RENEW, 1, LEASE_KEY, RUN_ID, LEASE_SECONDS)


def take(client: Redis) -> bool:
    """Take the client's database for this run if it is free: a lease set first (atomically,
    so two runs never both get it), then kept only if the database held nothing else or was a
    test database (whose run is gone, since the lease was free)."""
    if not client.set(LEASE_KEY, RUN_ID, nx=True, ex=LEASE_SECONDS):
        return False  # another run's
    if client.dbsize() == 1 or client.exists(MARK_KEY):
        with client.pipeline(transaction=True) as pipe:
            pipe.flushdb()
            pipe.set(LEASE_KEY, RUN_ID, ex=LEASE_SECONDS)
            pipe.set(MARK_KEY, "1")
            pipe.execute()
        return True
    client.delete(LEASE_KEY)  # someone else's data: left alone
    return False


def needs_mariadb_server() -> bool:
    """Whether a run here would start a MariaDB of its own and finds no server to start."""
    if os.environ.get("TEST_DATABASE_URL"):
        return False
    if not forced_throwaway() and mysql_answers(HOST, MARIADB_PORT):
        return False
    return not mariadb_installed()


if __name__ == "__main__":
    # `python -m tests.services needs-mariadb-server`: exit status 0 if so (the Makefile's ask).
    import sys

    if sys.argv[1:] != ["needs-mariadb-server"]:
        sys.exit("usage: python -m tests.services needs-mariadb-server")
    sys.exit(0 if needs_mariadb_server() else 1)
