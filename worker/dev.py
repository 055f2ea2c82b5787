"""`make run`: the whole service on one machine, with embedded services where none is configured.

Starts Redis (embedded Valkey) and Meilisearch unless REDIS_URL / MEILI_URL are set, uses SQLite
unless DATABASE_URL is set, migrates, loads the sample catalog into an empty database, then runs
the API and the worker until Ctrl-C or SIGTERM, and stops everything it started.
"""

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import func, select

from api.db import make_engine, make_sessionmaker
from api.imports.tmdb import import_tmdb
from api.movies.models import Movie
from api.settings import DATA_DIR

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
# A child that dies is started again after the first delay, doubling up to the second while it
# keeps dying within STABLE_SECONDS of its start.
RESTART_DELAYS = (1.0, 30.0)
STABLE_SECONDS = 30.0
# The embedded cache's bound: made-up URLs evict old answers instead of growing memory, and
# the queue (the other server) is never evicted.
CACHE_BOUND = {"maxmemory": "64mb", "maxmemory-policy": "allkeys-lru"}
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


def start_services(stack: ExitStack) -> None:
    from worker.devstack import start_meilisearch, start_valkey

    if not _configured("REDIS_URL"):
        redis = stack.enter_context(start_valkey(DATA_DIR / "valkey", None))
        os.environ["REDIS_URL"] = redis.url
        print(f"marquee: embedded Redis-compatible server at {redis.url}", flush=True)
        if not _configured("CACHE_REDIS_URL"):
            cache = stack.enter_context(start_valkey(DATA_DIR / "valkey-cache", None, CACHE_BOUND))
            os.environ["CACHE_REDIS_URL"] = cache.url
            print(f"marquee: embedded cache (bounded to {CACHE_BOUND['maxmemory']})", flush=True)
    if not _configured("MEILI_URL"):
        key = _master_key()
        meili = stack.enter_context(
            start_meilisearch(DATA_DIR / "meilisearch", None, master_key=key)
        )
        os.environ["MEILI_URL"], os.environ["MEILI_MASTER_KEY"] = meili.url, key
        print(f"marquee: local Meilisearch at {meili.url}", flush=True)


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

    def __init__(self, name: str, command: list[str]) -> None:
        self.name, self.command = name, command
        self.delay = RESTART_DELAYS[0]
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, cwd=ROOT)
        self.started = time.monotonic()
        self.restart_at: float | None = None

    def watch(self) -> None:
        """Notice a death and schedule the restart; restart when it is due."""
        now = time.monotonic()
        if self.restart_at is None and self.process.poll() is not None:
            if now - self.started > STABLE_SECONDS:
                self.delay = RESTART_DELAYS[0]
            code = self.process.returncode
            print(
                f"marquee: {self.name} exited ({code}); restarting in {self.delay:.0f} s",
                flush=True,
            )
            self.restart_at = now + self.delay
            self.delay = min(self.delay * 2, RESTART_DELAYS[1])
        elif self.restart_at is not None and now >= self.restart_at:
            self.start()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=GRACE_SECONDS + 5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def serve() -> int:
    port = os.environ.get("PORT", "8000")
    uvicorn = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
    uvicorn += ["--host", "127.0.0.1", "--port", port]
    uvicorn += ["--timeout-graceful-shutdown", str(GRACE_SECONDS)]
    children = [
        Child("API", uvicorn),
        Child("worker", [sys.executable, "-m", "worker.cli", "worker"]),
    ]
    print(f"marquee: serving on http://127.0.0.1:{port} (docs at /docs); Ctrl-C stops", flush=True)
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stop["now"]:
            for child in children:
                child.watch()
            time.sleep(0.2)
    finally:
        for child in children:
            child.stop()
    return 0


def main() -> int:
    with ExitStack() as stack:
        start_services(stack)
        from api.settings import get_settings

        settings = get_settings()
        _run(["worker.cli", "migrate"])
        asyncio.run(load_sample_if_empty(settings.DATABASE_URL))
        return serve()


if __name__ == "__main__":
    sys.exit(main())
