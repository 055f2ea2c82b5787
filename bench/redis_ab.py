"""The cache's Redis connection side by side: the lookup every cached read makes (one MGET of
the scopes' version keys and a ~20 KB answer) through each candidate against one Redis, then
cached `GET /movies/{id}` through the API with each.

    python -m bench.redis_ab [--ops N] [--seconds S] [--rounds N] [--no-api]
                             [--loop uvloop|asyncio] [--redis-url URL] [--drop-database]

Everything runs against a throwaway Redis (`devstack.servers.controlled_redis`, so no other
benchmark's flush or load lands in the middle), or `--redis-url` under keys of their own,
deleted at the end. The API part imports TMDB 5000 into its own database `marquee_bench_redis`
(kept between runs unless `--drop-database`) and serves it with uvicorn on CPU 0, wrk on CPU 1,
as `bench.load_bench` does, the cache's lookups going through each candidate in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import psutil
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError
from sqlalchemy import text

from api.db import make_engine
from api.main import _redis as api_redis
from bench import report, stack
from bench.load_wrk import WrkResult, run_wrk, uvicorn
from bench.report import machine, table, write_result
from devstack.servers import controlled_redis

NAME = "redis-pipe"
ROOT = Path(__file__).resolve().parents[1]
# The hand-written pipelined connection this benchmark was written to judge, from git history.
LEGACY_COMMIT = "984b4d3"
LEGACY_PATH = "api/redis_pipe.py"
TIMEOUT = 0.5  # api.main.REDIS_TIMEOUT_SECONDS
VALUE_BYTES = 20_000
VALUES = 64
CONCURRENCY = (1, 32, 128)
TUNED_POOL = 8
SEED_PREFIX = "mq:bench:redis_ab"


# ---- the candidates ----------------------------------------------------------------------


class Candidate(Protocol):
    name: str

    def call(self, *args: bytes | str | int) -> Awaitable[Any]: ...

    async def aclose(self) -> None: ...


def legacy_module() -> types.ModuleType | None:
    """api/redis_pipe.py as it was before this benchmark (None without git history)."""
    return stack.module_at(LEGACY_COMMIT, LEGACY_PATH, "legacy_redis_pipe")


class Legacy:
    """(a) RedisPipe.call as it was: hand-written RESP over an asyncio.Protocol, hiredis."""

    name = "(a) RedisPipe.call (hand-written, one write per loop turn)"

    def __init__(self, url: str, module: types.ModuleType) -> None:
        self.pipe = module.RedisPipe(url, TIMEOUT)
        self.call = self.pipe.call

    async def aclose(self) -> None:
        await self.pipe.aclose()


class Library:
    """(b) redis.asyncio.Redis, one command per call."""

    def __init__(self, name: str, redis: Redis) -> None:
        self.name, self.redis = name, redis
        self.call = redis.execute_command

    async def aclose(self) -> None:
        await self.redis.aclose()


def library_candidates(url: str) -> list[Candidate]:
    common: dict[str, Any] = {"socket_timeout": TIMEOUT, "socket_connect_timeout": TIMEOUT}
    blocking = BlockingConnectionPool.from_url(
        url, max_connections=TUNED_POOL, timeout=TIMEOUT, **common
    )
    return [
        Library("(b1) redis.asyncio pool (default, as api.main._redis)", api_redis(url)),
        Library(
            f"(b2) redis.asyncio blocking pool of {TUNED_POOL}", Redis(connection_pool=blocking)
        ),
        Library(
            "(b3) redis.asyncio single_connection_client",
            Redis.from_url(url, single_connection_client=True, **common),
        ),
    ]


class AutoPipeline:
    """(c) the calls of one event-loop turn sent as one redis-py `pipeline()`, replies handed
    back in order; batches run as tasks of their own (kept), so a cancelled caller only drops
    its own reply."""

    def __init__(self, name: str, redis: Redis, in_flight: int) -> None:
        self.name, self.redis = name, redis
        self.batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.slots = asyncio.Semaphore(in_flight)

    def call(self, *args: bytes | str | int) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self.batch:
            loop.call_soon(self._flush)
        self.batch.append((args, future))
        return future

    def _flush(self) -> None:
        batch, self.batch = self.batch, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        try:
            async with self.slots, self.redis.pipeline(transaction=False) as pipe:
                for args, _ in batch:
                    pipe.execute_command(*args)
                replies = await pipe.execute(raise_on_error=False)
        except (RedisError, OSError) as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def aclose(self) -> None:
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.redis.aclose()


def autopipeline_candidates(url: str) -> list[Candidate]:
    return [
        AutoPipeline(
            "(c1) autopipeline on redis-py pipeline(), default pool",
            Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT),
            in_flight=1 << 16,
        ),
        AutoPipeline(
            "(c2) autopipeline on redis-py pipeline(), one batch in flight",
            Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT),
            in_flight=1,
        ),
    ]


def current_candidates(url: str) -> list[Candidate]:
    """(d) what the code has now, if it differs from the candidates above."""
    try:
        from api import redis_pipe
    except ImportError:
        return []
    if not hasattr(redis_pipe, "RedisPipe") or legacy_source() == _source(redis_pipe):
        return []

    class Current:
        name = "(d) RedisPipe.call now (redis-py's connection, shared)"

        def __init__(self) -> None:
            self.pipe = redis_pipe.RedisPipe(url, TIMEOUT)
            self.call = self.pipe.call

        async def aclose(self) -> None:
            await self.pipe.aclose()

    return [Current()]


def legacy_source() -> bytes:
    done = subprocess.run(
        ["git", "show", f"{LEGACY_COMMIT}:{LEGACY_PATH}"], cwd=ROOT, capture_output=True
    )
    return done.stdout


def _source(module: types.ModuleType) -> bytes:
    return Path(str(module.__file__)).read_bytes()


# ---- the lookups -------------------------------------------------------------------------


@dataclass
class Keys:
    """Three version keys and VALUES answers of ~20 KB, each naming its own index, so a reply
    handed to the wrong caller is seen."""

    prefix: str
    versions: list[str]
    values: list[str]

    def lookup(self, i: int) -> tuple[str, ...]:
        return ("MGET", *self.versions, self.values[i % VALUES])

    def check(self, i: int, reply: Any) -> bool:
        *versions, value = reply
        return (
            versions == [b"v0", b"v1", b"v2"]
            and value is not None
            and value.startswith(b"%d\n" % (i % VALUES))
        )


async def seed(url: str) -> Keys:
    prefix = f"{SEED_PREFIX}:{secrets.token_hex(4)}"
    keys = Keys(prefix, [f"{prefix}:v:{n}" for n in range(3)], [])
    redis = Redis.from_url(url)
    try:
        for n, key in enumerate(keys.versions):
            await redis.set(key, f"v{n}", ex=3600)
        filler = secrets.token_hex(VALUE_BYTES // 2).encode()
        for i in range(VALUES):
            key = f"{prefix}:d:{i}"
            await redis.set(key, (b"%d\n" % i + filler)[:VALUE_BYTES], ex=3600)
            keys.values.append(key)
    finally:
        await redis.aclose()
    return keys


async def unseed(url: str, keys: Keys) -> None:
    redis = Redis.from_url(url)
    try:
        await redis.delete(*keys.versions, *keys.values)
    finally:
        await redis.aclose()


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0
    wall: float = 0.0
    errors: int = 0
    wrong: int = 0

    def add(self, other: Figures) -> None:
        self.latencies += other.latencies
        self.cpu += other.cpu
        self.wall += other.wall
        self.errors += other.errors
        self.wrong += other.wrong


async def block(candidate: Candidate, keys: Keys, start: int, ops: int, conns: int) -> Figures:
    """`ops` lookups with `conns` in flight; each timed, and the process's CPU over all."""
    figures = Figures()
    todo = iter(range(start, start + ops))

    async def caller() -> None:
        for i in todo:
            started = time.perf_counter()
            try:
                reply = await candidate.call(*keys.lookup(i))
            except (RedisError, OSError):
                figures.errors += 1
                continue
            figures.latencies.append(time.perf_counter() - started)
            if not keys.check(i, reply):
                figures.wrong += 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(conns)))
    figures.cpu, figures.wall = time.process_time() - cpu, time.perf_counter() - wall
    return figures


async def measure(
    candidates: Sequence[Candidate], keys: Keys, ops: int, conns: int
) -> dict[str, Figures]:
    """`ops` lookups per candidate with `conns` in flight, taking turns in rotating blocks."""
    size = 200 if conns == 1 else conns * 16
    results = {c.name: Figures() for c in candidates}
    order = list(candidates)
    for n in range(max(1, ops // size)):
        for candidate in order:
            results[candidate.name].add(await block(candidate, keys, n * size, size, conns))
        order = order[1:] + order[:1]
    return results


def micro_rows(results: dict[str, Figures], conns: int) -> list[list[Any]]:
    out: list[list[Any]] = []
    for name, f in results.items():
        done = len(f.latencies)
        out.append(
            [
                name,
                f"c{conns}",
                done,
                f"{f.errors}/{f.wrong}",
                f"{done / f.wall:,.0f}" if f.wall else "-",
                report.pct(f.latencies, 50) * 1000,
                report.pct(f.latencies, 99) * 1000,
                f"{1e6 * f.cpu / done:.1f}" if done else "-",
            ]
        )
    return out


MICRO_HEADERS = [
    "candidate",
    "in flight",
    "lookups",
    "errors/wrong",
    "lookups/s",
    "p50 ms",
    "p99 ms",
    "client CPU µs/lookup",
]


async def micro(url: str, ops: int, notes: list[str]) -> str:
    module = legacy_module()
    if module is None:
        notes.append(f"(a) skipped: `git show {LEGACY_COMMIT}:{LEGACY_PATH}` failed here.")
    candidates: list[Candidate] = [Legacy(url, module)] if module is not None else []
    candidates += library_candidates(url) + autopipeline_candidates(url)
    candidates += current_candidates(url)
    keys = await seed(url)
    rows: list[list[Any]] = []
    try:
        for c in candidates:  # connections opened, nothing measured
            await block(c, keys, 0, 64, 8)
        for conns in CONCURRENCY:
            print(f"  lookups, {conns} in flight", flush=True)
            results = await measure(candidates, keys, ops if conns == 1 else ops * 4, conns)
            rows += micro_rows(results, conns)
            for row in micro_rows(results, conns):
                print("   ", " | ".join(str(v) for v in row), flush=True)
    finally:
        for c in candidates:
            await c.aclose()
        await unseed(url, keys)
    return table(MICRO_HEADERS, rows)


# ---- end to end: cached GET /movies/{id} through the API ------------------------------

DATABASE = "marquee_bench_redis"
CANDIDATE_ENV = "BENCH_REDIS_CANDIDATE"
E2E_CONNS = (1, 32, 128)
MOVIES = 500


def _e2e_candidates() -> dict[str, tuple[str, Callable[[str], Candidate | None]]]:
    """What the API's cache looks up through: a label, and a builder from the cache URL
    (None: leave the app as it is)."""

    def legacy(url: str) -> Candidate:
        module = legacy_module()
        assert module is not None
        return Legacy(url, module)

    def single(url: str) -> Candidate:
        return library_candidates(url)[2]

    def auto(url: str) -> Candidate:
        return autopipeline_candidates(url)[1]

    return {
        "legacy": ("(a) RedisPipe (before)", legacy),
        "library": ("(b1) redis.asyncio pool: `Cache.redis.mget`", lambda url: _NO_PIPE),
        "single": ("(b3) redis.asyncio single_connection_client", single),
        "auto": ("(c2) autopipeline on pipeline(), one batch in flight", auto),
        "now": ("(d) RedisPipe now: api.main as it is", lambda url: None),
    }


class _NoPipe:
    name = "no pipe"


_NO_PIPE: Any = _NoPipe()


def api_app() -> Any:
    """A uvicorn factory: the API, its cache's lookups going through the candidate named by
    BENCH_REDIS_CANDIDATE (set after the lifespan built the cache)."""
    from api.main import create_app

    app = create_app()
    inner = app.router.lifespan_context
    _, build = _e2e_candidates()[os.environ[CANDIDATE_ENV]]

    @contextlib.asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[None]:
        async with inner(app_):
            cache = app_.state.cache
            swapped = build(app_.state.settings.cache_redis_url)
            if swapped is not None:
                cache.pipe = None if swapped is _NO_PIPE else swapped
            try:
                yield
            finally:
                if swapped is not None and swapped is not _NO_PIPE:
                    await swapped.aclose()

    app.router.lifespan_context = lifespan
    return app


async def ensure_catalog() -> list[int]:
    """TMDB 5000 in DATABASE, imported once and kept; MOVIES of its ids."""
    await stack.ensure_tmdb_catalog(DATABASE)
    engine = make_engine(stack.database_url(DATABASE), pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text(f"SELECT id FROM movie ORDER BY id LIMIT {MOVIES}"))
            return [int(r[0]) for r in rows]
    finally:
        await engine.dispose()


@dataclass
class E2E:
    server_cpu_us: float
    result: WrkResult


def e2e(opts: Opts, redis_url: str, tmp: Path) -> str:
    ids = asyncio.run(ensure_catalog())
    paths = [f"/movies/{i}" for i in ids]
    log = tmp / "servers.log"
    runs: dict[tuple[str, int], list[E2E]] = {}
    bodies = tmp / "bare-bodies.json"
    with stack.meilisearch() as meili:
        s = stack.settings(DATABASE, meili, "bench_redis_ab").model_copy(
            update={"REDIS_URL": redis_url, "CACHE_TTL_SECONDS": 300, "ENVIRONMENT": "production"}
        )
        base_env = stack.env(s, "ENVIRONMENT", "CACHE_TTL_SECONDS")
        bare_env = {**os.environ, "BARE_APP_BODIES": str(bodies)}
        names = [*_e2e_candidates(), BARE]  # the bare app last in round 1: it needs the bodies
        for round_ in range(opts.rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                if name == BARE:
                    server = uvicorn("bench.bare_app:create_app", bare_env, log, API_OPTIONS)
                else:
                    env = {**base_env, CANDIDATE_ENV: name}
                    server = uvicorn("bench.redis_ab:api_app", env, log, API_OPTIONS)
                with server as running:
                    if name != BARE and not bodies.exists():
                        bodies.write_text(json.dumps(_warm(running.url, paths)))
                    elif name != BARE:
                        _warm(running.url, paths)
                    for conns in E2E_CONNS:
                        e = _step(running, paths, conns, opts.seconds, tmp)
                        runs.setdefault((name, conns), []).append(e)
                        print(
                            f"  round {round_ + 1} {name} c{conns}: {e.result.rps:,.0f} req/s",
                            flush=True,
                        )
    if opts.drop_database:
        asyncio.run(stack.drop_database(DATABASE))
    return _e2e_table(runs)


API_OPTIONS = ["--workers", "1", "--timeout-keep-alive", "5", "--no-access-log"]
BARE = "bare"


def _warm(url: str, paths: list[str]) -> dict[str, str]:
    """GET every path once: the cache filled, the URLs' scopes remembered; their bodies."""
    bodies = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for path in paths:
            answer = client.get(path)
            answer.raise_for_status()
            bodies[path] = answer.text
    return bodies


def _step(server: Any, paths: list[str], conns: int, seconds: float, tmp: Path) -> E2E:
    cpu = _cpu(server.pid)
    requests = [("GET", p, "") for p in paths]
    r = run_wrk(server.url, requests, tmp, connections=conns, seconds=seconds)
    return E2E(1e6 * (_cpu(server.pid) - cpu) / max(1, r.requests), r)


def _cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _e2e_table(runs: dict[tuple[str, int], list[E2E]]) -> str:
    """The best round's throughput and latency; the median round's CPU per request (it moves
    far less than throughput with the machine's other load)."""
    labels = {name: label for name, (label, _) in _e2e_candidates().items()}
    labels[BARE] = "bare ASGI app, same bytes (ceiling)"
    best = {key: max(found, key=lambda e: e.result.rps) for key, found in runs.items()}
    cpu = {key: statistics.median(e.server_cpu_us for e in found) for key, found in runs.items()}
    rows: list[list[Any]] = []
    for conns in E2E_CONNS:
        before = ("legacy", conns)
        for name, label in labels.items():
            key = (name, conns)
            if key not in best:
                continue
            r = best[key].result
            rows.append(
                [
                    label,
                    conns,
                    f"{r.rps:,.0f}",
                    _share(r.rps, best[before].result.rps) if before in best else "-",
                    r.p50_ms,
                    r.p99_ms,
                    f"{r.errors}/{r.non_2xx}",
                    f"{cpu[key]:.0f}",
                    _share(cpu[key], cpu[before]) if before in cpu else "-",
                ]
            )
    headers = ["lookups through", "conns", "req/s", "of (a)", "p50 ms", "p99 ms"]
    headers += ["errors/non-2xx", "server CPU µs/request", "of (a)"]
    return table(headers, rows) + "\n\n" + _spread(runs)


def _share(value: float, reference: float) -> str:
    return f"{100 * value / reference:.0f}%" if reference else "-"


def _spread(runs: dict[tuple[str, int], list[E2E]]) -> str:
    """How far the rounds of one candidate and concurrency lay apart, at most."""

    def worst(values: list[list[float]]) -> float:
        return max((max(v) / min(v) for v in values if min(v) > 0), default=1.0)

    rps = worst([[e.result.rps for e in found] for found in runs.values()])
    cpu = worst([[e.server_cpu_us for e in found] for found in runs.values()])
    return (
        f"Between the rounds of one candidate and concurrency, req/s differed by up to "
        f"{rps:.2f}× and server CPU per request by up to {cpu:.2f}× (the machine's other work)."
    )


# ---- the benchmark -----------------------------------------------------------------------


@dataclass
class Opts:
    ops: int
    seconds: float
    api: bool
    loop: str
    drop_database: bool
    redis_url: str | None
    rounds: int = 3


def _runner(loop: str) -> Callable[[Any], Any]:
    if loop == "uvloop":
        import uvloop

        def go(coro: Any) -> Any:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as r:
                return r.run(coro)

        return go
    return asyncio.run


def run(opts: Opts) -> str:
    notes: list[str] = []
    with contextlib.ExitStack() as cleanup:
        tmp = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="marquee-redis-ab-")))
        url = opts.redis_url
        if url is None:
            server = controlled_redis(tmp / "redis")
            cleanup.callback(server.stop)
            url = f"{server.url}/0"
        version = asyncio.run(_server_version(url))
        micro_table = _runner(opts.loop)(micro(url, opts.ops, notes))
        parts = [_intro(opts, url, version), "## 1. The lookup alone", micro_table]
        if opts.api:
            parts += ["## 2. End to end: cached `GET /movies/{id}`", _e2e_intro(opts)]
            parts.append(e2e(opts, url, tmp))
        text_ = "\n\n".join([*parts, *notes])
        rows = machine(asyncio.run(stack.mariadb_version()), stack.meili_version())
        rows += [("Redis server", version), ("event loop (lookups alone)", opts.loop)]
    write_result(
        NAME,
        "The cache's Redis connection side by side",
        text_,
        rows,
        command="python -m bench.redis_ab",
    )
    return text_


async def _server_version(url: str) -> str:
    redis = Redis.from_url(url)
    try:
        info = await redis.info("server")
    finally:
        await redis.aclose()
    name = "Valkey" if "valkey_version" in info else "Redis"
    return f"{name} {info.get('valkey_version') or info.get('redis_version')}"


def _intro(opts: Opts, url: str, version: str) -> str:
    where = (
        "a throwaway server (devstack.servers.controlled_redis)"
        if opts.redis_url is None
        else f"`{url}`"
    )
    return (
        f"One lookup is `MGET` of 3 version keys and one {VALUE_BYTES // 1000} KB answer (the "
        f"shape `Cache.lookup` sends) against {where}, {version}, over loopback. "
        f"{opts.loop} event loop, client unpinned. Candidates take turns in blocks (200 lookups "
        "at 1 in flight, 16 per caller otherwise) in rotating order. **errors/wrong**: lookups "
        "that raised / got a reply that was not their own. **client CPU** is "
        "`time.process_time()` of the benchmark process over the candidate's blocks, per "
        f"lookup. Timeouts {TIMEOUT} s (`api.main.REDIS_TIMEOUT_SECONDS`) wherever the "
        "candidate takes one."
    )


def _e2e_intro(opts: Opts) -> str:
    return (
        f"TMDB 5000 in `{DATABASE}`; {MOVIES} movies' details, warmed (cached answers of 1-20 "
        f"KB); uvicorn `{' '.join(API_OPTIONS)}` (httptools + uvloop) on CPU 0, wrk (one "
        f"thread) on CPU 1, Redis unpinned. Each step {opts.seconds:g} s of wrk rotating "
        f"through the {MOVIES} URLs, {opts.rounds} interleaved rounds (each round starts every "
        "server afresh, in rotating order): req/s and latencies of the best round, server CPU of "
        "the median one. Hits are answered by `HttpCaching` before "
        "routing: one lookup each. **server CPU** is the uvicorn process's user + system time "
        "over the step, per request. The ceiling serves the very same bytes from a dict "
        "(`bench/bare_app.py`)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.redis_ab", description=__doc__)
    parser.add_argument("--ops", type=int, default=4000, help="sequential lookups per candidate")
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk seconds per API step")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the API part")
    parser.add_argument("--no-api", action="store_true", help="skip the API (end-to-end) part")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--drop-database", action="store_true", help=f"drop {DATABASE} after")
    parser.add_argument("--redis-url", help="a Redis to use (default: a throwaway one)")
    args = parser.parse_args(argv)
    opts = Opts(
        args.ops,
        args.seconds,
        not args.no_api,
        args.loop,
        args.drop_database,
        args.redis_url,
        args.rounds,
    )
    print(run(opts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
