"""Write-to-searchable latency: an admin edit through the API until /movies/search finds it.

Runs a real `marquee worker` subprocess and the API in-process (ASGITransport inside the app's
lifespan) on TMDB 5000 in their own database, Redis db 12 and Meilisearch index. N times, one after
another: PATCH a movie's title to add a fresh unique word, then search for the word every POLL s
until that movie is among the hits (a miss after GIVE_UP s). Everything started is stopped at the
end, also on error.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import random
import secrets
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from api.db import make_engine, make_sessionmaker
from api.main import create_app
from api.movies.models import Movie
from api.outbox import SearchOutbox, pending_count
from api.settings import Settings
from api.users.security import create_access_token
from api.users.service import ensure_admin
from bench import stack
from bench.report import table, write_result
from importer.tmdb import import_tmdb

NAME = "freshness"
DATABASE = "marquee_bench_fresh"
INDEX = "bench_fresh"
WRITES = 100
POLL = 0.02
GIVE_UP = 10.0
TARGET_P95 = 1.0
ROOT = Path(__file__).resolve().parents[1]


def _die_with_parent() -> Callable[[], None]:
    """The worker gets SIGTERM if this process dies, so a killed benchmark leaves no worker."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def set_pdeathsig() -> None:
        prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG

    return set_pdeathsig


def _spawn_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "worker"],
            cwd=ROOT,
            env=stack.env(settings),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(),
        )


@asynccontextmanager
async def worker_process(settings: Settings, log: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`marquee worker` on the bench settings; SIGTERM (then SIGKILL) when the block ends."""
    process = await asyncio.to_thread(_spawn_worker, settings, log)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 15)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, 5)


async def _prepare_database() -> None:
    url = await stack.reset_database(DATABASE)
    engine = make_engine(url)
    try:
        print("  importing TMDB 5000 (not timed)", flush=True)
        movies, credits, posters = stack.TMDB_FILES
        await import_tmdb(make_sessionmaker(engine), movies, credits, posters)
    finally:
        await engine.dispose()


async def _wait_indexed(
    app: Any, client: httpx.AsyncClient, worker: subprocess.Popen[bytes], log: Path
) -> float:
    """Until the worker has drained the import's outbox and search sees the whole catalog."""
    started = time.monotonic()
    while time.monotonic() - started < 600:
        if worker.poll() is not None:
            tail = await asyncio.to_thread(log.read_bytes)
            raise RuntimeError(f"the worker exited with {worker.returncode}: {tail[-2000:]!r}")
        async with app.state.sessionmaker() as session:
            pending = await pending_count(session)
        answer = await client.get("/movies/search", params={"q": "", "per_page": 1})
        total = answer.json().get("total_results", 0) if answer.status_code == 200 else 0
        if pending == 0 and total >= 4803:
            seconds = time.monotonic() - started
            print(f"  the worker indexed the catalog in {seconds:.0f} s", flush=True)
            return seconds
        await asyncio.sleep(1.0)
    raise TimeoutError("the worker did not index the catalog within 10 minutes")


async def _admin_headers(app: Any, settings: Settings) -> dict[str, str]:
    async with app.state.sessionmaker() as session:
        user = await ensure_admin(session, "bench-admin@example.com", secrets.token_urlsafe(16))
        await session.commit()
        assert user.id is not None
    return {"Authorization": f"Bearer {create_access_token(user.id, settings.SECRET_KEY, 120)}"}


async def _visible_after(
    client: httpx.AsyncClient, word: str, movie_id: int, sent: float
) -> tuple[float | None, list[float]]:
    """Seconds from `sent` until a search for word returns movie_id (None past GIVE_UP)."""
    searches: list[float] = []
    while time.perf_counter() - sent < GIVE_UP:
        asked = time.perf_counter()
        answer = await client.get("/movies/search", params={"q": word, "per_page": 5})
        searches.append(time.perf_counter() - asked)
        if answer.status_code == 200 and any(
            hit["id"] == movie_id for hit in answer.json()["results"]
        ):
            return time.perf_counter() - sent, searches
        await asyncio.sleep(POLL)
    return None, searches


async def _measure(
    app: Any, client: httpx.AsyncClient, headers: dict[str, str], writes: int
) -> dict[str, Any]:
    async with app.state.sessionmaker() as session:
        stmt = select(Movie.id, Movie.title).order_by(Movie.id)  # type: ignore[call-overload]
        rows = (await session.execute(stmt)).all()
    rng = random.Random(stack.SEED)
    latencies, patches, searches, misses = [], [], [], 0
    for n, (movie_id, title) in enumerate(rng.sample(rows, writes), start=1):
        word = "".join(rng.choices(string.ascii_lowercase, k=12))
        sent = time.perf_counter()
        answer = await client.patch(
            f"/movies/{movie_id}", json={"title": f"{title} {word}"[:300]}, headers=headers
        )
        patches.append(time.perf_counter() - sent)
        answer.raise_for_status()
        seen, took = await _visible_after(client, word, movie_id, sent)
        searches += took
        if seen is None:
            misses += 1
        else:
            latencies.append(seen)
        if n % 20 == 0:
            print(f"  {n}/{writes} writes, {misses} misses so far", flush=True)
    return {"latencies": latencies, "patches": patches, "searches": searches, "misses": misses}


async def _outbox_delays(app: Any, since: datetime) -> list[float]:
    """created → processed of the benchmark's outbox entries (queue wait + drain + indexing)."""
    async with app.state.sessionmaker() as session:
        columns = (SearchOutbox.created_at, SearchOutbox.processed_at)
        stmt = select(*columns).where(SearchOutbox.created_at >= since)  # type: ignore[call-overload]
        rows = (await session.execute(stmt)).all()
    return [(done - made).total_seconds() for made, done in rows if done is not None]


async def _run(meili: stack.Meili, writes: int, log: Path) -> dict[str, Any]:
    settings = stack.settings(DATABASE, meili, INDEX)
    try:
        await _prepare_database()
        await stack.flush_redis()
        async with worker_process(settings, log) as worker:
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://bench"
                ) as client:
                    initial = await _wait_indexed(app, client, worker, log)
                    headers = await _admin_headers(app, settings)
                    since = datetime.now(UTC)
                    result = await _measure(app, client, headers, writes)
                    result["outbox"] = await _outbox_delays(app, since)
                    result["initial_drain_seconds"] = initial
                    return result
    finally:
        await stack.flush_redis()
        await stack.drop_database(DATABASE)


def _ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0] * 1000
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (max(values) if q >= 100 else cuts[int(q) - 1]) * 1000


def _summary(r: dict[str, Any], writes: int) -> str:
    lat = r["latencies"]
    p95 = _ms(lat, 95)
    verdict = "met" if r["misses"] == 0 and p95 < TARGET_P95 * 1000 else "MISSED"
    main_rows = [
        [
            writes,
            r["misses"],
            _ms(lat, 50),
            p95,
            _ms(lat, 99),
            _ms(lat, 100),
            f"< {TARGET_P95 * 1000:.0f} ms: {verdict}",
        ]
    ]
    steps = [
        ("PATCH /movies/{id} (commit + enqueue)", r["patches"]),
        ("outbox entry created → processed (queue wait + drain + Meilisearch task)", r["outbox"]),
        ("one GET /movies/search", r["searches"]),
    ]
    parts = [[step, _ms(v, 50), _ms(v, 95), _ms(v, 100)] for step, v in steps]
    return (
        table(["writes", "misses", "p50 ms", "p95 ms", "p99 ms", "max ms", "target p95"], main_rows)
        + "\n\nWhere the time goes:\n\n"
        + table(["step", "p50 ms", "p95 ms", "max ms"], parts)
    )


def run(writes: int = WRITES) -> str:
    load = os.getloadavg()[0]
    with (
        stack.meilisearch() as meili,
        tempfile.TemporaryDirectory(prefix="marquee-bench-worker-") as tmp,
    ):
        result = asyncio.run(_run(meili, writes, Path(tmp) / "worker.log"))
    body = _summary(result, writes)
    notes = [
        f"Load average (1 min) when the benchmark started: {load:.2f}.",
        "Before the timed writes, the worker indexed the freshly imported catalog through the "
        f"outbox (4,803 entries, batches of 500): {result['initial_drain_seconds']:.0f} s.",
        "Latency: from sending the PATCH to the first search response listing the movie; searches "
        f"every {POLL * 1000:.0f} ms; a write not visible after {GIVE_UP:.0f} s is a miss "
        "(not in the percentiles).",
        "Writes are sequential (one at a time), on random TMDB 5000 movies; the API runs "
        "in-process, "
        "the worker (`marquee worker`, arq) as a subprocess, both on Redis db 12.",
        "The outbox row shows the worker's share: arq picks a queued job up on its next poll "
        "(poll_delay 0.1 s), then the drain reads the movie, upserts it and waits for "
        "Meilisearch's task before marking the row processed.",
        "Meilisearch runs with `--max-indexing-memory 1GiB` (devstack/servers.py): with its "
        "default, two thirds of the RAM, the first updates after a bulk load stalled 0.5-2 s "
        "(p95 801 ms, max 1,566 ms on the same quiet machine).",
    ]
    body += "\n\n" + "\n".join(f"- {n}" for n in notes)
    write_result(NAME, "Search freshness benchmark", body, asyncio.run(stack.machine_rows()))
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.freshness_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--writes", type=int, default=WRITES, help="how many edits to time")
    args = parser.parse_args(argv)
    print(run(args.writes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
