"""`make run`: the whole service on one machine, with embedded services where none is configured.

Starts Redis (embedded Valkey: one for the queue, a bounded one for the cache) and Meilisearch
unless REDIS_URL / MEILI_URL are set, uses SQLite unless DATABASE_URL is set, migrates, loads the
sample catalog into an empty database, then runs the API and the worker until Ctrl-C or SIGTERM,
starting again whatever dies, and stops everything it started.
"""

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from api.db import make_engine, make_sessionmaker
from api.movies.models import Movie
from api.serving import UVICORN_OPTIONS
from api.settings import DATA_DIR
from importer.tmdb import import_tmdb

if TYPE_CHECKING:
    from devstack.servers import Controlled

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
# A child that dies is started again after the first delay, doubling up to the second while it
# keeps dying within STABLE_SECONDS of its start.
RESTART_DELAYS = (1.0, 30.0)
STABLE_SECONDS = 30.0
# The embedded cache's bound: made-up URLs evict old answers instead of growing memory, and
# the queue (the other server) is never evicted.
CACHE_BOUND = ("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
# Seconds uvicorn gives open requests at shutdown: one stuck request cannot hold a stop.
GRACE_SECONDS = 10


def _configured(name: str) -> bool:
    return bool(os.environ.get(name)) or _in_dotenv(name)


def _in_dotenv(name: str) -> bool:
    env = ROOT / ".env"
    return env.exists() and any(
        line.startswith(f"{name}=") for line in env.read_text().splitlines()
    )


def _master_key() -> str:
    path = DATA_DIR / "meili-master-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def start_services(stack: ExitStack) -> list["Child"]:
    """The embedded servers nothing configured, kept running like the API and the worker."""
    from devstack.servers import controlled_meilisearch, controlled_redis

    services: list[Child] = []

    def keep(name: str, server: "Controlled", variable: str) -> None:
        os.environ[variable] = server.url
        services.append(stack.enter_context(Child.server(name, server)))
        print(f"marquee: {name} at {server.url}", flush=True)

    if not _configured("REDIS_URL"):
        keep("embedded Redis (queue)", controlled_redis(DATA_DIR / "valkey"), "REDIS_URL")
        if not _configured("CACHE_REDIS_URL"):
            cache = controlled_redis(DATA_DIR / "valkey-cache", *CACHE_BOUND)
            keep("embedded Redis (cache, bounded)", cache, "CACHE_REDIS_URL")
    if not _configured("MEILI_URL"):
        os.environ["MEILI_MASTER_KEY"] = key = _master_key()
        meili = controlled_meilisearch(DATA_DIR / "meilisearch", key)
        keep("local Meilisearch", meili, "MEILI_URL")
    return services


async def load_sample_if_empty(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session:
            count = (await session.execute(select(func.count()).select_from(Movie))).scalar_one()
        if count == 0:
            report = await import_tmdb(
                sessionmaker,
                movies=SAMPLE / "movies.csv.gz",
                credits=SAMPLE / "credits.csv.gz",
                posters=SAMPLE / "posters.csv.gz",
            )
            print(f"marquee: loaded the sample catalog ({report.imported} movies)", flush=True)
    finally:
        await engine.dispose()


def _run(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", *args], check=True, cwd=ROOT)


class Child:
    """A process `make run` keeps running: started again whenever it dies, after a pause that
    doubles while it keeps dying young (a crash loop does not spin the machine)."""

    def __init__(self, name: str, spawn: Callable[[], subprocess.Popen[bytes]]) -> None:
        self.name, self.spawn = name, spawn
        self.delay = RESTART_DELAYS[0]
        self.start()

    @classmethod
    def command(cls, name: str, args: list[str]) -> "Child":
        return cls(name, lambda: subprocess.Popen(args, cwd=ROOT))

    @classmethod
    def server(cls, name: str, server: "Controlled") -> "Child":
        """An embedded server, already started: started again on its port and data."""
        first: list[subprocess.Popen[bytes]] = [server.process] if server.process else []

        def spawn() -> subprocess.Popen[bytes]:
            process = first.pop() if first else server.start().process
            assert process is not None
            return process

        return cls(name, spawn)

    def start(self) -> None:
        self.started = time.monotonic()
        self.restart_at: float | None = None
        try:
            self.process = self.spawn()
        except RuntimeError as exc:  # a server that did not come up: try again later
            print(f"marquee: {self.name} did not start: {exc}", flush=True)
            self.restart_at = time.monotonic() + self._next_delay()

    def watch(self) -> None:
        """Notice a death and schedule the restart; restart when it is due."""
        now = time.monotonic()
        if self.restart_at is None and self.process.poll() is not None:
            if now - self.started > STABLE_SECONDS:
                self.delay = RESTART_DELAYS[0]
            code, delay = self.process.returncode, self._next_delay()
            print(f"marquee: {self.name} exited ({code}); restarting in {delay:.0f} s", flush=True)
            self.restart_at = now + delay
        elif self.restart_at is not None and now >= self.restart_at:
            self.start()

    def _next_delay(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2, RESTART_DELAYS[1])
        return delay

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=GRACE_SECONDS + 5)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> "Child":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def serve(services: list[Child]) -> int:
    port = os.environ.get("PORT", "8000")
    uvicorn = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
    uvicorn += ["--host", "127.0.0.1", "--port", port]
    uvicorn += ["--timeout-graceful-shutdown", str(GRACE_SECONDS)]
    uvicorn += UVICORN_OPTIONS  # header size and slow-client limits (api.serving)
    children = [
        Child.command("API", uvicorn),
        Child.command("worker", [sys.executable, "-m", "worker.cli", "worker"]),
    ]
    print(f"marquee: serving on http://127.0.0.1:{port} (docs at /docs); Ctrl-C stops", flush=True)
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stop["now"]:
            for child in services + children:
                child.watch()
            time.sleep(0.2)
    finally:
        for child in children:
            child.stop()
    return 0


def main() -> int:
    with ExitStack() as stack:
        services = start_services(stack)
        from api.settings import get_settings

        settings = get_settings()
        _run(["worker.cli", "migrate"])
        asyncio.run(load_sample_if_empty(settings.DATABASE_URL))
        return serve(services)


if __name__ == "__main__":
    sys.exit(main())
