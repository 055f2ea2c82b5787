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


def serve() -> int:
    port = os.environ.get("PORT", "8000")
    marquee = [sys.executable, "-m", "worker.cli"]
    uvicorn = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        port,
    ]
    children = [
        subprocess.Popen(uvicorn, cwd=ROOT),
        subprocess.Popen([*marquee, "worker"], cwd=ROOT),
    ]
    print(f"marquee: serving on http://127.0.0.1:{port} (docs at /docs); Ctrl-C stops", flush=True)
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stop["now"] and all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0 if stop["now"] else 1


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
