"""Faults injected into a running Marquee: what writes, reads and search freshness do while
Meilisearch hangs, Redis dies or blips, the worker is killed, the index is rebuilt under edits,
and clients send oversized bodies.

Everything runs on this machine over loopback (bench/faults_stack.py): TMDB 5000 in its own
MariaDB database, its own Redis and Meilisearch (devstack/servers.py, which can SIGSTOP, SIGCONT,
SIGKILL and start them again), the API as a uvicorn subprocess and `marquee worker` as another.
Writes are admin title edits through the API, each on a movie of its own with a fresh unique
word, checked searchable with `indexer.search_movies`. Everything started is stopped at the end,
also on error.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from bench import stack
from bench.faults_bodies import HEALTH_PERIOD, oversized_bodies
from bench.faults_stack import (
    CATCH_UP,
    INDEX,
    Child,
    Stack,
    Write,
    catch_up,
    edit,
    percentile_ms,
    running_stack,
    timed_edits,
)
from bench.report import machine, table, write_result
from devstack.run import RESTART_DELAYS
from worker.sync import DRAIN_LOCK_TTL

NAME = "faults"
EDIT_PERIOD = 0.3  # an admin editing by hand, fast
MEILI_HANG = 20.0
REDIS_DOWN, REDIS_WRITES = 12.0, 100
# The brief's restart delay, and `make run`'s (its supervisor's first: 1 s, doubling), which is
# shorter than the drain lock's TTL: the lock a killed worker held may then be what waits.
WORKER_DOWNS = (5.0, RESTART_DELAYS[0])
WORKER_EDIT_PERIOD = 0.2
LOCK_KEY = f"marquee:lock:drain:{INDEX}"
REINDEX_RUNS, REINDEX_TIMEOUT = 4, 60.0  # a run takes ~5 s here
BLIP, READ_AFTER, READ_PERIOD = 2.0, 2.0, 0.02


@dataclass
class Row:
    """One scenario's writes and what became of them."""

    scenario: str
    writes: list[Write]
    caught_up: float | None
    lost: int
    note: str = ""

    def cells(self) -> list[Any]:
        seconds = [w.seconds for w in self.writes]
        failed = sum(not w.ok for w in self.writes)
        ok = any(w.ok for w in self.writes)
        caught = f"{self.caught_up:.1f}" if self.caught_up is not None else "never"
        latency = [percentile_ms(seconds, q) for q in (50, 95, 100)]
        counts = [len(self.writes), failed, *latency, caught if ok else "-", self.lost]
        return [self.scenario, *counts, self.note]

    def line(self) -> str:
        """The figures on one line, for the progress output."""
        cells = zip(HEADERS[1:], self.cells()[1:-1], strict=True)
        return ", ".join(f"{h} {v:,.1f}" if isinstance(v, float) else f"{h} {v}" for h, v in cells)


HEADERS = ["scenario", "writes", "failed", "p50 ms", "p95 ms", "max ms", "catch-up s", "lost"]


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    reindex_runs: list[list[Any]] = field(default_factory=list)
    bodies: list[list[Any]] = field(default_factory=list)
    health: list[Any] = field(default_factory=list)
    machine: list[tuple[str, str]] = field(default_factory=list)
    warm_up: float | None = None


async def edits_during(
    s: Stack, seconds: float, period: float, count: int, end: Callable[[], object]
) -> tuple[list[Write], float]:
    """`count` edits every `period` s while a fault lasts `seconds`, then `end()` ends it (also
    on error); the writes (awaited after the end) and the moment of recovery."""
    try:
        edits = asyncio.create_task(timed_edits(s, period, count))
        await asyncio.sleep(seconds)
    finally:
        end()
    return await edits, time.monotonic()


# 1. Meilisearch hung


async def hung_meilisearch(s: Stack) -> Row:
    s.meili.pause()
    count = round(MEILI_HANG / EDIT_PERIOD)
    writes, recovered = await edits_during(s, MEILI_HANG, EDIT_PERIOD, count, s.meili.resume)
    seconds, lost = await catch_up(s, writes, recovered)
    return Row(f"1. Meilisearch hung (SIGSTOP) {MEILI_HANG:.0f} s", writes, seconds, len(lost))


# 2. Redis killed


async def redis_killed(s: Stack) -> Row:
    log_from = s.worker.log_size()
    s.redis.kill()
    period = REDIS_DOWN / REDIS_WRITES
    writes, recovered = await edits_during(s, REDIS_DOWN, period, REDIS_WRITES, s.redis.start)
    seconds, lost = await catch_up(s, writes, recovered)
    alive = s.worker.alive()
    restarts = s.worker.log_since(log_from).count("lost Redis")
    state = "alive" if alive else f"EXITED ({s.worker.process and s.worker.process.poll()})"
    if not alive:
        s.start_worker()  # the next scenarios need one
    note = f"worker {state} afterwards; it restarted its arq loop {restarts}×"
    return Row(f"2. Redis killed (SIGKILL) {REDIS_DOWN:.0f} s", writes, seconds, len(lost), note)


# 3. Worker killed


async def _lock_ttl(redis: Redis, within: float) -> int | None:
    """Poll the drain lock until a worker holds it (its PTTL in ms), or None after `within` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ttl = int(await redis.pttl(LOCK_KEY))
        if ttl > 0:
            return ttl
        await asyncio.sleep(0.002)
    return None


async def _lock_gone(
    redis: Redis, token: bytes | None, since: float, within: float
) -> float | None:
    """Seconds from `since` until the killed holder's lock (its token) is gone, expired or
    taken over (None if it is still there after `within` s)."""
    while time.monotonic() - since < within:
        if await redis.get(LOCK_KEY) != token:
            return time.monotonic() - since
        await asyncio.sleep(0.02)
    return None


async def _kill_and_restart(s: Stack, redis: Redis, down: float) -> tuple[str, float]:
    """SIGKILL the worker while it holds the drain lock (if that happens within 5 s), start
    a new one `down` s later; what the lock did, and when the new worker started."""
    ttl = await _lock_ttl(redis, 5.0)
    s.worker.kill()
    killed, token = time.monotonic(), await redis.get(LOCK_KEY)
    gone = asyncio.create_task(_lock_gone(redis, token, killed, DRAIN_LOCK_TTL + 2.0))
    await asyncio.sleep(down)
    s.start_worker()
    restarted = time.monotonic()
    freed = await gone
    held = f"held (PTTL {ttl} ms)" if ttl else "not seen held"
    when = "not gone" if freed is None else f"gone {freed:.2f} s after"
    note = f"drain lock at the kill: {held}, {when} (TTL {DRAIN_LOCK_TTL:.0f} s)"
    return f"{note}; new worker started {restarted - killed:.2f} s after the kill", restarted


async def worker_killed(s: Stack, down: float, label: str) -> Row:
    redis = Redis.from_url(s.redis.url)
    stop = asyncio.Event()
    try:
        edits = asyncio.create_task(timed_edits(s, WORKER_EDIT_PERIOD, 100, stop))
        note, restarted = await _kill_and_restart(s, redis, down)
    finally:
        stop.set()
        await redis.aclose()
    writes = await edits
    seconds, lost = await catch_up(s, writes, restarted)
    scenario = f"{label}. worker killed (SIGKILL), again {down:.0f} s later"
    return Row(scenario, writes, seconds, len(lost), note)


# 4. Reindex under edits


async def _reindex_with_edits(s: Stack, run: int) -> tuple[list[Write], int | None, float]:
    """`marquee reindex` as a subprocess while an admin edits; the edits, its exit code (None:
    killed after REINDEX_TIMEOUT) and its seconds."""
    stop = asyncio.Event()
    edits = asyncio.create_task(timed_edits(s, EDIT_PERIOD, 400, stop))
    cli = Child("reindex", ["-m", "worker.cli", "reindex"], s.env, s.tmp / f"reindex-{run}.log")
    started = time.monotonic()
    try:
        code = await cli.start().exit_code(REINDEX_TIMEOUT)
    finally:
        cli.stop()
        stop.set()
    return await edits, code, time.monotonic() - started


async def reindex_under_edits(s: Stack, results: Results) -> Row:
    """After each run, every movie edited so far (in any run) must show its latest title."""
    latest: dict[int, Write] = {}
    made: list[Write] = []
    lost_ids: set[int] = set()
    slowest: float | None = 0.0
    for run in range(1, REINDEX_RUNS + 1):
        writes, code, took = await _reindex_with_edits(s, run)
        made += writes
        latest.update((w.movie_id, w) for w in writes if w.ok)
        seconds, lost = await catch_up(s, list(latest.values()), time.monotonic())
        lost_ids |= {w.movie_id for w in lost}
        slowest = None if seconds is None or slowest is None else max(slowest, seconds)
        shown = "timeout" if code is None else code
        caught = f"{seconds:.1f}" if seconds is not None else "never"
        results.reindex_runs.append([run, shown, took, len(writes), len(latest), caught, len(lost)])
    codes = [r[1] for r in results.reindex_runs]
    note = f"reindex exit codes {codes}; catch-up: the slowest run's"
    return Row(
        f"4. {REINDEX_RUNS}× `marquee reindex` under edits", made, slowest, len(lost_ids), note
    )


# 6. Redis blip


async def _read_titles(s: Stack, movie_id: int, until: float) -> list[tuple[float, str]]:
    """GET /movies/{id} every READ_PERIOD s until `until` (at most 500 reads): (seconds, title
    or the error)."""
    reads = []
    for _ in range(500):
        if time.monotonic() >= until:
            break
        started = time.monotonic()
        try:
            answer = await s.http.get(f"/movies/{movie_id}")
            title = answer.json()["title"] if answer.status_code == 200 else str(answer.status_code)
        except httpx.HTTPError as exc:
            title = type(exc).__name__
        reads.append((time.monotonic() - started, title))
        await asyncio.sleep(READ_PERIOD)
    return reads


async def redis_blip(s: Stack) -> Row:
    movie = next(s.movies)
    for _ in range(2):  # the second read is a cache hit: the cache holds the old title
        (await s.http.get(f"/movies/{movie[0]}")).raise_for_status()
    s.redis.pause()
    paused = time.monotonic()
    asyncio.get_running_loop().call_later(BLIP, s.redis.resume)
    try:
        await asyncio.sleep(0.2)
        w = await edit(s, movie)
        reads = await _read_titles(s, movie[0], paused + BLIP + READ_AFTER)
    finally:
        s.redis.resume()  # SIGCONT again is harmless
    seconds, lost = await catch_up(s, [w], paused + BLIP)
    stale = sum(title != w.title for _, title in reads)
    took = [t for t, _ in reads]
    note = (
        f"{len(reads)} detail reads after the edit's answer: {stale} stale (old title or error); "
        f"read p50 {percentile_ms(took, 50):.1f} ms, max {percentile_ms(took, 100):.0f} ms"
    )
    return Row(f"6. Redis paused (SIGSTOP) {BLIP:.0f} s", [w], seconds, len(lost), note)


# Running it


async def _bodies(s: Stack, results: Results) -> None:
    results.bodies, results.health = await oversized_bodies(s)


async def _warm_up(s: Stack) -> float:
    """One edit through the whole path before any fault: the worker is up and draining."""
    w = await edit(s)
    seconds, lost = await catch_up(s, [w], w.sent)
    if not w.ok or seconds is None:
        raise RuntimeError(f"the stack does not work before any fault: {w} {s.worker.tail()}")
    return seconds


async def _scenarios(s: Stack, results: Results) -> None:
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("Meilisearch hung", lambda: hung_meilisearch(s)),
        ("Redis killed", lambda: redis_killed(s)),
        *(
            (f"worker killed, again {d:.0f} s later", lambda d=d, n=n: worker_killed(s, d, n))
            for d, n in zip(WORKER_DOWNS, ("3a", "3b"), strict=True)
        ),
        ("reindex under edits", lambda: reindex_under_edits(s, results)),
        ("oversized bodies", lambda: _bodies(s, results)),
        ("Redis blip", lambda: redis_blip(s)),
    ]
    for name, step in steps:
        print(f"  {name}", flush=True)
        row = await step()
        if isinstance(row, Row):
            results.rows.append(row)
            print(f"    {row.line()}", flush=True)


async def _run(tmp: Path) -> Results:
    results = Results()
    async with running_stack(tmp) as s:
        try:
            results.warm_up = await _warm_up(s)
            await _scenarios(s, results)
        except BaseException:
            print(f"API log:\n{s.api.tail()}\nworker log:\n{s.worker.tail()}", file=sys.stderr)
            raise
        version = (await s.res.meili.get_version()).pkg_version
        results.machine = machine(await stack.mariadb_version(), version)
    return results


def _summary(r: Results, load: float) -> str:
    runs = ["run", "exit", "seconds", "edits during", "movies edited so far", "catch-up s", "lost"]
    parts = [
        table([*HEADERS, "what else"], [row.cells() for row in r.rows]),
        "Scenario 4, run by run (after each, every movie edited so far must show its latest "
        "title):",
        table(runs, r.reindex_runs),
        f"Scenario 5: anonymous POST /auth/register, all at once, while /health is polled "
        f"every {HEALTH_PERIOD * 1000:.0f} ms:",
        table(["bodies", "answers", "slowest s", "largest answer B"], r.bodies),
        table(["/health polls", "p50 ms", "max ms", "failed"], [r.health]),
    ]
    return "\n\n".join(parts) + "\n\n" + "\n".join(f"- {n}" for n in _notes(r, load))


def _notes(r: Results, load: float) -> list[str]:
    warm = f"{r.warm_up:.2f} s" if r.warm_up is not None else "-"
    return [
        f"Load average (1 min) when the benchmark started: {load:.2f}. TMDB 5000 (4,803 "
        "movies); the API is one uvicorn process; everything shares the machine's cores.",
        "Writes: admin `PATCH /movies/{id}` through the API over loopback, each on a movie of "
        "its own with a fresh unique word in its title, sent on a fixed schedule whatever "
        "earlier ones are doing (open loop); p50/p95/max are their response times; failed: not "
        "200 (or no answer within 30 s).",
        "catch-up: from the end of the fault (SIGCONT, Redis started again, the new worker "
        "started, the reindex exited) until a search for every successful write's word finds "
        "its movie (checked every 0.2 s with `indexer.search_movies`); lost: writes not found "
        f"within {CATCH_UP:.0f} s of it. Before any fault one edit was searchable in {warm}.",
        f"Worker killed: SIGKILLed as soon as it is seen holding the outbox drain lock (PTTL "
        f"polled every 2 ms); a new one is started {WORKER_DOWNS[0]:.0f} s later (3a), then "
        f"{WORKER_DOWNS[1]:.0f} s later (3b: `make run`'s first restart delay, shorter than the "
        "lock's TTL); writes run from just before the kill until the restart.",
        "Redis paused: the movie's details are read twice (the second is a cache hit), Redis is "
        "SIGSTOPped, the edit sent 0.2 s later, then the details read every 20 ms from the "
        f"edit's answer until {READ_AFTER:.0f} s after SIGCONT; stale: any answer but the new "
        "title.",
    ]


def run() -> str:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="marquee-bench-faults-") as tmp:
        results = asyncio.run(_run(Path(tmp)))
    body = _summary(results, load)
    write_result(NAME, "Fault-injection benchmark", body, results.machine)
    return body


if __name__ == "__main__":
    print(run())
