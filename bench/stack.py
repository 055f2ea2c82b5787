"""The services a benchmark runs against: its own MariaDB databases, Redis db 12, a Meilisearch."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import tempfile
import types
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from sqlalchemy import text

from api.db import make_engine, make_sessionmaker
from api.settings import Settings
from bench import generate
from importer.tmdb import import_tmdb
from worker.cli import alembic_config

# Our own databases (marquee_bench*) and Redis database: tests use marquee_test* and db 9.
MYSQL_SERVER = os.environ.get("BENCH_MYSQL_URL", "mysql+asyncmy://root@127.0.0.1:3306")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
TMDB_DIR = Path(os.environ.get("BENCH_DATA_DIR", str(generate.DEFAULT_SOURCE)))
CACHE = Path(os.environ.get("BENCH_CACHE", str(Path(tempfile.gettempdir()) / "marquee-bench")))
TMDB_FILES = [TMDB_DIR / f"tmdb_5000_{name}.csv.gz" for name in ("movies", "credits", "posters")]
SEED = 1


def database_url(name: str) -> str:
    return f"{MYSQL_SERVER}/{name}"


async def _server_execute(*statements: str) -> list[object]:
    engine = make_engine(MYSQL_SERVER + "/", pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            results = [await conn.execute(text(s)) for s in statements]
            return [r.scalar() if r.returns_rows else None for r in results]
    finally:
        await engine.dispose()


async def reset_database(name: str) -> str:
    """Drop and create `name`, then migrate it; returns its URL."""
    assert name.startswith("marquee_bench"), name
    await _server_execute(
        f"DROP DATABASE IF EXISTS `{name}`", f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
    )
    return await migrate(name)


async def migrate(name: str) -> str:
    """Bring `name` to the code's schema (a kept database may predate a migration); its URL."""
    url = database_url(name)
    # Alembic's env runs its own event loop: give it a thread.
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    return url


async def drop_database(name: str) -> None:
    assert name.startswith("marquee_bench"), name
    await _server_execute(f"DROP DATABASE IF EXISTS `{name}`")


# The databases these benchmarks create; other benchmarks' marquee_bench_* are not ours to drop.
OURS = ("marquee_bench_tmdb", "marquee_bench_gen", "marquee_bench_fresh")


async def bench_databases() -> list[str]:
    engine = make_engine(MYSQL_SERVER + "/", pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SHOW DATABASES LIKE 'marquee\\_bench%'"))
            return [r[0] for r in rows]
    finally:
        await engine.dispose()


async def flush_redis() -> None:
    """Empty our Redis database (queued jobs, locks left by an interrupted run): db 12 is ours."""
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


async def mariadb_version() -> str:
    return str((await _server_execute("SELECT VERSION()"))[0])


async def schema_current(name: str) -> bool:
    """Whether the code's Movie model reads from `name` (a kept database can predate a change)."""
    from sqlalchemy import select

    from api.movies.models import Movie

    engine = make_engine(database_url(name), pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            await conn.execute(select(Movie).limit(1))
        return True
    except Exception:  # noqa: BLE001 - any failure means: rebuild it
        return False
    finally:
        await engine.dispose()


async def table_counts(
    name: str, tables: tuple[str, ...] = ("movie", "person", "cast_credit")
) -> dict[str, int]:
    """Row counts of `name`'s tables; empty when the database or its schema is missing."""
    if name not in await bench_databases():
        return {}
    engine = make_engine(database_url(name), pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return {
                t: int((await conn.execute(text(f"SELECT COUNT(*) FROM `{t}`"))).scalar_one())
                for t in tables
            }
    except Exception:  # noqa: BLE001 - an unmigrated or half-built database counts as missing
        return {}
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Meili:
    url: str
    key: str


@contextmanager
def meilisearch() -> Iterator[Meili]:
    """MEILI_URL/MEILI_MASTER_KEY when set, else a throwaway server in a temporary directory."""
    if os.environ.get("MEILI_URL"):
        yield Meili(os.environ["MEILI_URL"], os.environ.get("MEILI_MASTER_KEY", ""))
        return
    from devstack.servers import start_meilisearch

    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="marquee-bench-meili-") as tmp:
        print("  starting a throwaway Meilisearch", flush=True)
        with start_meilisearch(Path(tmp), master_key=key) as service:
            yield Meili(service.url, key)


def meili_version() -> str:
    """The version of the configured server, else of the binary a throwaway one would run."""
    if os.environ.get("MEILI_URL"):
        request = urllib.request.Request(os.environ["MEILI_URL"].rstrip("/") + "/version")
        if os.environ.get("MEILI_MASTER_KEY"):
            request.add_header("Authorization", f"Bearer {os.environ['MEILI_MASTER_KEY']}")
        with urllib.request.urlopen(request, timeout=5) as response:
            return str(json.load(response).get("pkgVersion"))
    from devstack.servers import meilisearch_binary

    done = subprocess.run(
        [str(meilisearch_binary()), "--version"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().removeprefix("meilisearch ").strip()


async def machine_rows() -> list[tuple[str, str]]:
    from bench.report import machine

    return machine(await mariadb_version(), meili_version())


def publish(name: str, title: str, body: str, command: str) -> None:
    """Print the figures, then write them with the machine to bench/results/<name>.md."""
    from bench.report import write_result

    print(body)
    write_result(name, title, body, asyncio.run(machine_rows()), command)


def settings(database: str, meili: Meili, index: str, secret: str | None = None) -> Settings:
    """The app's and worker's settings for the bench setup (the .env file is ignored)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=database_url(database),
        REDIS_URL=REDIS_URL,
        MEILI_URL=meili.url,
        MEILI_MASTER_KEY=meili.key,
        MEILI_INDEX=index,
        SECRET_KEY=secret or secrets.token_urlsafe(32),
        LOG_LEVEL="WARNING",
    )


def env(s: Settings, *extra: str) -> dict[str, str]:
    """The same settings as environment variables for a child process (plus `extra` names);
    service addresses inherited from this shell are dropped, so a child never mixes them up."""
    names = (
        "DATABASE_URL",
        "REDIS_URL",
        "MEILI_URL",
        "MEILI_MASTER_KEY",
        "MEILI_INDEX",
        "SECRET_KEY",
        "LOG_LEVEL",
        *extra,
    )
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "DATABASE_", "REDIS_"))
    }
    return {**keep, **{n: str(getattr(s, n)) for n in names}}


def generated_catalog(movies: int) -> list[Path]:
    """The generated catalog of this size (seed SEED), written once and cached in CACHE."""
    out = CACHE / f"catalog-{movies}-seed{SEED}-v{generate.VERSION}"
    paths = [out / name for name in generate.FILES]
    if (out / "complete").exists():
        return paths
    print(f"  generating a {movies:,}-movie catalog into {out}", flush=True)
    generate.generate(movies, out, SEED, source=TMDB_DIR)
    (out / "complete").touch()
    return paths


def generated_db(movies: int) -> str:
    return f"marquee_bench_gen{movies}"


def module_at(commit: str, path: str, name: str) -> types.ModuleType | None:
    """The module at `path` as it was at `commit`, for an A/B against code since replaced (None
    without the git history: a shallow clone)."""
    done = subprocess.run(
        ["git", "show", f"{commit}:{path}"], cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
    )  # fmt: skip
    if done.returncode:
        return None
    module = types.ModuleType(name)
    exec(compile(done.stdout, f"{commit}:{path}", "exec"), module.__dict__)
    return module


async def ensure_tmdb_catalog(name: str) -> str:
    """The TMDB 5000 database `name`, imported once and kept (again when its schema is behind
    the code's); its URL."""
    counts = await table_counts(name)
    if counts.get("movie", 0) > 4000 and await schema_current(name):
        return database_url(name)
    print(f"  importing TMDB 5000 into {name}", flush=True)
    url = await reset_database(name)
    engine = make_engine(url)
    try:
        movies, credits, posters = TMDB_FILES
        await import_tmdb(make_sessionmaker(engine), movies, credits, posters)
    finally:
        await engine.dispose()
    return url
