"""The fault benchmark's running stack: its own database, Redis and Meilisearch (servers it may
hang, kill and start again: devstack/servers.py), the API and the worker as real subprocesses,
an admin HTTP client over loopback, timed admin edits and the check that they are searchable."""

from __future__ import annotations

import asyncio
import random
import secrets
import signal
import statistics
import string
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from itertools import cycle
from pathlib import Path
from typing import Self

import httpx
from sqlalchemy import select

from api.db import make_engine, make_sessionmaker
from api.movies.models import Movie
from api.settings import Settings
from bench import stack
from devstack.servers import (
    Controlled,
    controlled_meilisearch,
    controlled_redis,
    die_with_parent,
    free_port,
)
from importer.tmdb import import_tmdb
from indexer import search_movies
from worker import sync
from worker.resources import Resources, connect_redis, open_resources

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "marquee_bench_faults"
INDEX = "bench_faults"
SAMPLE_FILES = [ROOT / "data" / "sample" / f"{n}.csv.gz" for n in ("movies", "credits", "posters")]
ADMIN_EMAIL = "bench-faults-admin@example.com"
CATCH_UP = 60.0  # a write not searchable this long after recovery is lost
POLL = 0.2  # seconds between rounds of catch-up searches
REQUEST_TIMEOUT = 30.0  # a write or read that takes longer counts as failed
START_TIMEOUT = 60.0
BUDGET = 540.0  # seconds for the whole run, set-up included
MIN_WINDOW = 10.0


class Child:
    """A process of this project (the API, the worker, a CLI run), logging to a file; SIGTERM
    reaches it if the benchmark dies. Started from the main thread only (see die_with_parent)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, *self.args],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(),
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is cleaned up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    async def exit_code(self, within: float) -> int | None:
        """Wait (bounded) for the process to end; its code, or None if it was still running."""
        assert self.process is not None
        with suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(self.process.wait, within)
        return self.process.poll()

    def tail(self, size: int = 1500) -> str:
        return self.log.read_bytes()[-size:].decode(errors="replace")

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


@dataclass
class Write:
    """One admin edit: the movie, the unique word its new title holds, how it went."""

    movie_id: int
    word: str
    title: str
    sent: float
    seconds: float = 0.0
    status: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "200"


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    tmp: Path
    redis: Controlled
    meili: Controlled
    res: Resources  # the benchmark's own: its Meilisearch client checks what is searchable
    api: Child
    worker: Child
    http: httpx.AsyncClient
    admin: dict[str, str] = field(default_factory=dict)
    movies: Iterator[tuple[int, str]] = field(default_factory=lambda: iter(()))
    # Catch-up windows shrink (to MIN_WINDOW at least) so that the whole run ends by this.
    deadline: float = field(default_factory=lambda: time.monotonic() + BUDGET)

    def start_worker(self) -> Child:
        """A new `marquee worker` (after the last one was killed, or exited)."""
        self.worker = spawn_worker(self.env, self.tmp)
        return self.worker


def spawn_worker(env: dict[str, str], tmp: Path) -> Child:
    return Child("worker", ["-m", "worker.cli", "worker"], env, tmp / "worker.log").start()


def percentile_ms(values: list[float], q: int) -> float:
    """The q-th percentile of seconds, in ms (q=100: the max); nan when there is none."""
    if not values:
        return float("nan")
    if q >= 100 or len(values) == 1:
        return (max(values) if q >= 100 else values[0]) * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=12))


_RNG = random.Random(stack.SEED)


async def edit(s: Stack, movie: tuple[int, str] | None = None) -> Write:
    """PATCH a movie's title (the next unused one's by default) to hold a fresh unique word."""
    movie_id, title = movie or next(s.movies)
    unique = word(_RNG)
    w = Write(movie_id, unique, f"{title[:280]} {unique}", time.monotonic())
    try:
        answer = await s.http.patch(f"/movies/{movie_id}", json={"title": w.title}, headers=s.admin)
        w.status = str(answer.status_code)
    except httpx.HTTPError as exc:
        w.status = type(exc).__name__
    w.seconds = time.monotonic() - w.sent
    return w


async def timed_edits(
    s: Stack, period: float, count: int, stop: asyncio.Event | None = None
) -> list[Write]:
    """`count` edits sent every `period` s whatever the earlier ones are doing (open loop, so a
    slow write shows as itself, not as fewer writes), fewer if `stop` is set; all awaited."""
    started, tasks = time.monotonic(), []
    for n in range(count):
        if stop is not None and stop.is_set():
            break
        tasks.append(asyncio.create_task(edit(s)))
        delay = started + (n + 1) * period - time.monotonic()
        if stop is None:
            await asyncio.sleep(max(delay, 0))
        else:
            await _wait_or(stop, delay)
    return list(await asyncio.gather(*tasks))


async def _wait_or(event: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), max(seconds, 0))


async def searchable(s: Stack, w: Write) -> bool:
    try:
        page = await search_movies(s.res.meili, INDEX, w.word, None, None, 1, 5)
    except Exception:  # noqa: BLE001 - an engine still waking up: not searchable yet
        return False
    return any(hit["id"] == w.movie_id for hit in page.hits)


async def catch_up(
    s: Stack, writes: list[Write], since: float, within: float = CATCH_UP
) -> tuple[float | None, list[Write]]:
    """Seconds from `since` until every successful write is searchable (None if some never
    were within `within` s), and the writes that were not."""
    pending = [w for w in writes if w.ok]
    within = min(within, max(MIN_WINDOW, s.deadline - time.monotonic()))
    while True:
        found = await asyncio.gather(*(searchable(s, w) for w in pending))
        pending = [w for w, seen in zip(pending, found, strict=True) if not seen]
        if not pending:
            return time.monotonic() - since, []
        if time.monotonic() - since > within:
            return None, pending
        await asyncio.sleep(POLL)


# Setting up: database, index, processes.


def catalog_files() -> list[Path]:
    """TMDB 5000 where the shared data is, else the project's sample."""
    return stack.TMDB_FILES if all(p.exists() for p in stack.TMDB_FILES) else SAMPLE_FILES


async def prepare_database() -> int:
    """A fresh, migrated marquee_bench_faults with the catalog imported; how many movies."""
    engine = make_engine(await stack.reset_database(DATABASE))
    try:
        movies, credits, posters = catalog_files()
        report = await import_tmdb(make_sessionmaker(engine), movies, credits, posters)
    finally:
        await engine.dispose()
    return report.imported


async def build_index(res: Resources) -> None:
    """The index as `marquee reindex` builds it, then the import's outbox drained (those
    entries would otherwise be the worker's first work, inside the first scenario)."""
    await sync.rebuild_index(res)
    await sync.drain(res)


async def movie_order(res: Resources) -> Iterator[tuple[int, str]]:
    """The movies in a seeded random order: each edit gets a movie of its own (TMDB 5000 has
    enough for every scenario; the 300-movie sample comes round again in later scenarios)."""
    async with res.sessionmaker() as session:
        stmt = select(Movie.id, Movie.title).order_by(Movie.id)  # type: ignore[call-overload]
        rows = [(int(i), str(t)) for i, t in (await session.execute(stmt)).all()]
    random.Random(stack.SEED).shuffle(rows)
    return cycle(rows)


def bench_settings(redis: Controlled, meili: Controlled, key: str) -> Settings:
    base = stack.settings(DATABASE, stack.Meili(meili.url, key), INDEX)
    changes = {
        "REDIS_URL": redis.url,
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "CACHE_TTL_SECONDS": 300,
    }
    return base.model_copy(update=changes)


def start_api(settings: Settings, env: dict[str, str], tmp: Path) -> tuple[Child, str]:
    port = free_port()
    args = ["-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    return Child("api", args, env, tmp / "api.log").start(), f"http://127.0.0.1:{port}"


async def wait_healthy(http: httpx.AsyncClient, api: Child) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not api.alive():
            raise RuntimeError(f"the API exited: {api.tail()}")
        try:
            if (await http.get("/health")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError(f"the API did not answer /health within {START_TIMEOUT:.0f} s")


async def login(http: httpx.AsyncClient, settings: Settings) -> dict[str, str]:
    """The configured admin's bearer token from POST /auth/token (an OAuth2 password form)."""
    form = {"username": ADMIN_EMAIL, "password": settings.ADMIN_PASSWORD or ""}
    answer = await http.post("/auth/token", data=form)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@asynccontextmanager
async def running_stack(tmp: Path) -> AsyncIterator[Stack]:
    """Everything up, the catalog imported and indexed; everything stopped (and the database
    dropped) when the block ends, also on error."""
    async with AsyncExitStack() as exits:
        key = secrets.token_hex(16)
        redis = controlled_redis(tmp / "redis")
        exits.callback(redis.stop)
        meili = controlled_meilisearch(tmp / "meili", key)
        exits.callback(meili.stop)
        settings = bench_settings(redis, meili, key)
        exits.push_async_callback(stack.drop_database, DATABASE)
        s = await _start(exits, settings, redis, meili, tmp)
        yield s


async def _start(
    exits: AsyncExitStack, settings: Settings, redis: Controlled, meili: Controlled, tmp: Path
) -> Stack:
    print("  importing the catalog and building the index (not timed)", flush=True)
    imported = await prepare_database()
    res = await open_resources(settings, redis=await connect_redis(settings, retries=0))
    exits.push_async_callback(_close_resources, res)
    await build_index(res)
    extra = ("ADMIN_EMAIL", "ADMIN_PASSWORD", "CACHE_TTL_SECONDS", "CACHE_REDIS_URL")
    env = stack.env(settings, *extra)  # CACHE_REDIS_URL empty: the cache is on our Redis too
    api, url = start_api(settings, env, tmp)
    exits.callback(api.stop)
    http = await exits.enter_async_context(_client(url))
    s = Stack(settings, env, tmp, redis, meili, res, api, spawn_worker(env, tmp), http)
    exits.callback(lambda: s.worker.stop())  # whichever worker runs at the end
    await wait_healthy(http, api)
    s.admin, s.movies = await login(http, settings), await movie_order(res)
    print(f"  {imported:,} movies; API, worker, Redis and Meilisearch up", flush=True)
    return s


def _client(url: str) -> httpx.AsyncClient:
    timeout = httpx.Timeout(REQUEST_TIMEOUT)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    return httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits, trust_env=False)


async def _close_resources(res: Resources) -> None:
    if res.redis is not None:
        await res.redis.aclose()
    await res.close()
