"""HTTP load on the API (issue #5): latency and throughput of details, lists, filters and search,
cached and uncached, beside Meilisearch's own HTTP API (the floor), a bare ASGI app (the
framework's ceiling) and a naive MySQL search (LIKE / FULLTEXT), with typo hit rates; uvicorn
serving settings compared; write-to-searchable latency while search is under load.

    python -m bench.load_bench [--quick]

Everything runs in its own database `marquee_bench_load`, Redis db 13, a throwaway Meilisearch
and index; wrk (one thread) drives the load from CPU 1 while the server runs on CPU 0 (taskset).
Everything started is stopped, and the database dropped, at the end, also on error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from api.serving import UVICORN_OPTIONS
from bench import load_setup as setup
from bench import naive_sql
from bench.load_setup import Query
from bench.load_wrk import (
    LOAD_CPUS,
    ROOT,
    SERVER_CPUS,
    VENV_BIN,
    WrkResult,
    can_pin,
    pinned,
    run_wrk,
    stop_process,
    uvicorn,
    wrk_version,
)
from bench.report import machine, table, verdict, write_result

NAME = "load"
ALL_CPUS = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
# What the Procfile runs, less --workers (compared separately) and --proxy-headers.
PROCFILE = ["--workers", "1", *UVICORN_OPTIONS, "--no-access-log"]
TARGET_SEARCH_RATIO = 1.3
TARGET_CEILING_SHARE = 0.5
TARGET_RSS_MIB = 200.0
FRESH_POLL = 0.02
FRESH_GIVE_UP = 10.0


@dataclass
class Opts:
    seconds: float
    conns: tuple[int, ...]
    writes: int
    quick: bool


def log(msg: str) -> None:
    print(f"  {msg}", flush=True)


def _ms(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))] * 1000


# ---- one benchmark run -------------------------------------------------------------------


class LoadBench:
    def __init__(self, opts: Opts, stack: ExitStack, tmp: Path) -> None:
        self.o, self.stack, self.tmp = opts, stack, tmp
        self.rows_api: list[list[Any]] = []
        self.rows_floor: list[list[Any]] = []
        self.rows_naive: list[list[Any]] = []
        self.rows_hits: list[list[Any]] = []
        self.rows_settings: list[list[Any]] = []
        self.rows_fresh: list[list[Any]] = []
        self.res: dict[tuple[str, ...], WrkResult] = {}
        self.notes: list[str] = []
        self.server_log = tmp / "servers.log"

    # -- the services
    def start(self) -> None:
        from devstack.servers import start_meilisearch

        self.meili_key = secrets.token_urlsafe(24)
        log("starting a throwaway Meilisearch")
        meili_dir = tmp_dir = self.tmp / "meili"
        service = start_meilisearch(tmp_dir, master_key=self.meili_key)
        self.stack.callback(service.stop)
        self.meili_url = service.url
        del meili_dir
        self.secret = setup.new_secret()
        asyncio.run(self._prepare())

    async def _prepare(self) -> None:
        log(f"creating and migrating {setup.DATABASE}")
        self.stack.callback(lambda: asyncio.run(setup.drop_database()))
        self.stack.callback(lambda: asyncio.run(setup.flush_redis()))
        await setup.create_database()
        await setup.flush_redis()
        started = time.monotonic()
        log("importing TMDB 5000")
        await setup.import_catalog()
        log(f"  imported in {time.monotonic() - started:.0f} s; building the index")
        started = time.monotonic()
        count = await setup.build_index(self.settings(0))
        log(f"  indexed {count} movies in {time.monotonic() - started:.0f} s")
        from sqlalchemy.ext.asyncio import create_async_engine  # noqa: F401

        from api.db import make_engine

        engine = make_engine(setup.database_url(), pool_size=1, max_overflow=0)
        try:
            await naive_sql.ensure_fulltext(engine)
        finally:
            await engine.dispose()
        self.corpus = await setup.build_corpus()
        c = self.corpus
        log(
            f"requests: {len(c.movie_ids)} ids, {len(c.filters)} filters, "
            f"{len(c.real)} real and {len(c.typos)} misspelled searches"
        )

    def settings(self, cache_ttl: int) -> Any:
        return setup.settings(self.meili_url, self.meili_key, cache_ttl, self.secret)

    def api(
        self, cache_ttl: int, options: Sequence[str] = PROCFILE, cpus: str = SERVER_CPUS
    ) -> Any:
        return uvicorn(
            "api.main:create_app",
            setup.env(self.settings(cache_ttl)),
            self.server_log,
            options,
            cpus=cpus,
        )

    # -- helpers
    def wrk(self, server: Any, paths: Sequence[str], conns: int, **kw: Any) -> WrkResult:
        reqs = [("GET", p, "") for p in paths]
        return run_wrk(
            server.url,
            reqs,
            self.tmp,
            connections=conns,
            seconds=self.o.seconds,
            server_pid=server.pid,
            **kw,
        )

    def warm(self, base: str, paths: Sequence[str]) -> dict[str, str]:
        """GET every path once (fills the cache); returns the bodies."""
        bodies = {}
        with httpx.Client(base_url=base, timeout=30) as client:
            for p in paths:
                r = client.get(p)
                if r.status_code != 200:
                    raise RuntimeError(f"GET {p} answered {r.status_code}: {r.text[:300]}")
                bodies[p] = r.text
        return bodies

    def workloads(self) -> dict[str, list[str]]:
        c = self.corpus
        return {
            "GET /movies/{id}": c.paths_details(),
            "GET /movies/popular": c.paths_popular(),
            "GET /movies/filter?genre&sort_by": c.paths_filter(),
            "GET /movies/search (real)": [c.search_path(q.q) for q in c.real],
            "GET /movies/search (misspelled)": [c.search_path(q.q) for q in c.typos],
        }

    @staticmethod
    def _row(label: list[Any], r: WrkResult, rss: bool = True) -> list[Any]:
        row = [*label, f"{r.rps:,.0f}", r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms]
        row.append(f"{r.errors}/{r.non_2xx}")
        if rss:
            row.append(f"{r.rss_mib:.0f}")
        return row

    # -- 1. the API
    def measure_api(self) -> None:
        for cache_ttl, label in ((300, "cached"), (0, "uncached")):
            log(f"API, {label} (CACHE_TTL_SECONDS={cache_ttl})")
            with self.api(cache_ttl) as server:
                loads = self.workloads()
                warm = (
                    [p for paths in loads.values() for p in paths]
                    if cache_ttl
                    else [p for paths in loads.values() for p in paths[:20]]
                )
                bodies = self.warm(server.url, warm)
                if cache_ttl:
                    keep = set(self.corpus.paths_popular()) | set(self.corpus.paths_details())
                    self.bare_bodies = {p: b for p, b in bodies.items() if p in keep}
                else:
                    self.measure_hit_rate(server.url)
                for name, paths in loads.items():
                    for conns in self.o.conns:
                        r = self.wrk(server, paths, conns)
                        self.res[("api", name, label, str(conns))] = r
                        self.rows_api.append(self._row([name, label, conns], r))
                        log(f"{name} {label} c{conns}: {r.rps:,.0f} req/s p50 {r.p50_ms:.1f} ms")

    def measure_hit_rate(self, base: str) -> None:
        """Our search's top 10 for every query (the uncached server: the engine's answer)."""
        self.api_hits: dict[str, list[bool]] = {}
        with httpx.Client(base_url=base, timeout=30) as client:
            for q in self.corpus.real + self.corpus.typos:
                r = client.get("/movies/search", params={"q": q.q, "per_page": 10})
                r.raise_for_status()
                ids = {m["id"] for m in r.json()["results"]}
                self.api_hits.setdefault(q.kind, []).append(bool(ids & q.expected))

    # -- 2. floor and ceiling
    def meili_requests(self, queries: Sequence[Query]) -> list[tuple[str, str, str]]:
        """The very body the API sends for page 1 of 20 (indexer.search.search_request)."""
        from api.search.documents import RETRIEVED
        from indexer.query import MovieFilters
        from indexer.search import search_request

        return [
            (
                "POST",
                f"/indexes/{setup.INDEX}/search",
                json.dumps(search_request(q.q, MovieFilters(), None, 1, 20, RETRIEVED)),
            )
            for q in queries
        ]

    def measure_floor_and_ceiling(self) -> None:
        headers = {
            "Authorization": f"Bearer {self.meili_key}",
            "Content-Type": "application/json",
            "Accept-Encoding": "identity",
        }
        cases = [("real", self.corpus.real), ("misspelled", self.corpus.typos)]
        for name, queries in cases:
            reqs = self.meili_requests(queries)
            for conns in self.o.conns:
                r = run_wrk(
                    self.meili_url,
                    reqs,
                    self.tmp,
                    connections=conns,
                    seconds=self.o.seconds,
                    headers=headers,
                )
                self.res[("meili", name, str(conns))] = r
                self.rows_floor.append(
                    self._row(
                        [f"Meilisearch POST /indexes/{setup.INDEX}/search ({name})", conns],
                        r,
                        rss=False,
                    )
                    + [f"{r.extra['kib_per_response']:.1f}"]
                )
                log(f"meili {name} c{conns}: {r.rps:,.0f} req/s p50 {r.p50_ms:.2f} ms")
        bodies = self.tmp / "bare-bodies.json"
        bodies.write_text(json.dumps(self.bare_bodies))
        env = {**os.environ, "BARE_APP_BODIES": str(bodies)}
        with uvicorn("bench.bare_app:create_app", env, self.server_log, PROCFILE) as server:
            for name, paths in (
                ("GET /movies/{id}", self.corpus.paths_details()),
                ("GET /movies/popular", self.corpus.paths_popular()),
            ):
                with httpx.Client(base_url=server.url) as client:
                    assert client.get(paths[0]).text == self.bare_bodies[paths[0]]
                for conns in self.o.conns:
                    r = self.wrk(server, paths, conns)
                    self.res[("bare", name, str(conns))] = r
                    self.rows_floor.append(
                        self._row([f"bare ASGI app {name}", conns], r, rss=False)
                        + [f"{r.extra['kib_per_response']:.1f}"]
                    )
                    log(f"bare {name} c{conns}: {r.rps:,.0f} req/s p50 {r.p50_ms:.2f} ms")

    # -- 2b. naive SQL
    def measure_naive(self) -> None:
        previous = os.sched_getaffinity(0)
        if can_pin():
            os.sched_setaffinity(0, {int(LOAD_CPUS)})  # this process is the load generator now
        try:
            asyncio.run(self._naive())
        finally:
            os.sched_setaffinity(0, previous)
        kinds = ["title", "actor", "title typo", "actor typo"]
        for kind in kinds:
            qs = [q for q in self.corpus.real + self.corpus.typos if q.kind == kind]
            ours = self.api_hits.get(kind, [])
            row: list[Any] = [kind, len(qs), f"{100 * sum(ours) / max(1, len(ours)):.0f}%"]
            for method in naive_sql.SEARCHES:
                hits = self.naive_hits[method].get(kind, [])
                row.append(f"{100 * sum(hits) / max(1, len(hits)):.0f}%")
            self.rows_hits.append(row)

    async def _naive(self) -> None:
        from api.db import make_engine

        self.naive_hits: dict[str, dict[str, list[bool]]] = {}
        engine = make_engine(setup.database_url(), pool_size=max(self.o.conns), max_overflow=0)
        try:
            for method, fn in naive_sql.SEARCHES.items():
                self.naive_hits[method] = {}
                async with engine.connect() as conn:
                    for q in self.corpus.real + self.corpus.typos:
                        ids = set(await fn(conn, q.q))
                        self.naive_hits[method].setdefault(q.kind, []).append(
                            bool(ids & q.expected)
                        )
                for set_name, queries in (
                    ("real", self.corpus.real),
                    ("misspelled", self.corpus.typos),
                ):
                    for conns in self.o.conns:
                        lat, seconds = await self._naive_load(engine, fn, queries, conns)
                        self.rows_naive.append(
                            [
                                method,
                                set_name,
                                conns,
                                f"{len(lat) / seconds:,.0f}",
                                _ms(lat, 50),
                                _ms(lat, 95),
                                _ms(lat, 99),
                                _ms(lat, 100),
                            ]
                        )
                        self.res[("naive", method, set_name, str(conns))] = WrkResult(
                            len(lat),
                            seconds,
                            _ms(lat, 50),
                            _ms(lat, 95),
                            _ms(lat, 99),
                            _ms(lat, 100),
                            0,
                            0,
                        )
                        log(
                            f"{method} {set_name} c{conns}: {len(lat) / seconds:,.0f} q/s "
                            f"p50 {_ms(lat, 50):.1f} ms"
                        )
        finally:
            await engine.dispose()

    async def _naive_load(
        self, engine: Any, fn: Callable[..., Any], queries: Sequence[Query], conns: int
    ) -> tuple[list[float], float]:
        latencies: list[float] = []
        deadline = time.perf_counter() + self.o.seconds

        async def client(offset: int) -> None:
            async with engine.connect() as conn:
                i = offset
                while time.perf_counter() < deadline:
                    q = queries[i % len(queries)]
                    t = time.perf_counter()
                    await fn(conn, q.q)
                    latencies.append(time.perf_counter() - t)
                    i += 1

        started = time.perf_counter()
        await asyncio.gather(*(client(k * 7) for k in range(conns)))
        return latencies, time.perf_counter() - started

    # -- 4. serving settings
    def measure_settings(self) -> None:
        base = PROCFILE
        no_log = ["--timeout-keep-alive", "5", "--no-access-log"]
        configs: list[tuple[str, list[str], str, dict[str, str]]] = [
            ("Procfile, --workers 1 (auto: httptools + uvloop)", base, SERVER_CPUS, {}),
            ("--http h11", [*base, "--http", "h11"], SERVER_CPUS, {}),
            (
                "--http httptools --loop asyncio",
                [*base, "--http", "httptools", "--loop", "asyncio"],
                SERVER_CPUS,
                {},
            ),
            (
                "--http h11 --loop asyncio",
                [*base, "--http", "h11", "--loop", "asyncio"],
                SERVER_CPUS,
                {},
            ),
            (
                "access log on (default log level)",
                ["--workers", "1", "--timeout-keep-alive", "5"],
                SERVER_CPUS,
                {},
            ),
            (
                "no keep-alive (clients send Connection: close)",
                base,
                SERVER_CPUS,
                {"Connection": "close"},
            ),
            ("--workers 2, both on CPU 0", ["--workers", "2", *no_log], SERVER_CPUS, {}),
            (f"--workers 1, unpinned (CPUs {ALL_CPUS}, shared with wrk)", base, ALL_CPUS, {}),
            (
                f"--workers 2, unpinned (CPUs {ALL_CPUS}, shared with wrk)",
                ["--workers", "2", *no_log],
                ALL_CPUS,
                {},
            ),
        ]
        if self.o.quick:
            configs = [configs[0], configs[1], configs[4], configs[6], configs[8]]
        conns = max(self.o.conns)
        popular = self.corpus.paths_popular()
        search = [self.corpus.search_path(q.q) for q in self.corpus.real]
        best: dict[tuple[str, int], WrkResult] = {}
        rounds = 1 if self.o.quick else 2
        for round_ in range(rounds):  # interleaved rounds, best of them: the machine is shared
            for name, options, cpus, headers in configs:
                for cache_ttl, paths in ((300, popular), (0, search)):
                    with self.api(cache_ttl, options, cpus) as server:
                        self.warm(server.url, paths if cache_ttl else paths[:20])
                        r = self.wrk(server, paths, conns, headers=headers)
                    key = (name, cache_ttl)
                    if key not in best or r.rps > best[key].rps:
                        best[key] = r
                    log(f"settings round {round_ + 1} {name} ttl={cache_ttl}: {r.rps:,.0f} req/s")
        for name, _, _, _ in configs:
            row: list[Any] = [name]
            rss = 0.0
            for cache_ttl in (300, 0):
                r = best[(name, cache_ttl)]
                rss = max(rss, r.rss_mib)
                row += [f"{r.rps:,.0f}", r.p50_ms, r.p99_ms]
                if r.errors or r.non_2xx:
                    row[-1] = f"{r.p99_ms:.1f} ({r.errors}/{r.non_2xx} err)"
            row.append(f"{rss:.0f}")
            self.rows_settings.append(row)

    # -- 5. freshness under load
    def measure_freshness(self) -> None:
        s = self.settings(300)
        worker_log = self.tmp / "worker.log"
        with self.api(300) as server, worker_log.open("wb") as out:
            worker = subprocess.Popen(
                pinned([str(VENV_BIN / "marquee"), "worker"], ALL_CPUS),
                cwd=ROOT,
                env=setup.env(s),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                paths = [self.corpus.search_path(q.q) for q in self.corpus.real]
                self.warm(server.url, paths)
                stop = threading.Event()
                loads: list[WrkResult] = []

                def drive() -> None:
                    while not stop.is_set():
                        loads.append(self.wrk(server, paths, max(self.o.conns)))

                thread = threading.Thread(target=drive, daemon=True)
                thread.start()
                try:
                    result = asyncio.run(self._writes(server.url, s))
                finally:
                    stop.set()
                    thread.join()
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker died: {worker_log.read_text()[-2000:]}")
            finally:
                stop_process(worker, 15)
        lat, misses, patch, polls = result
        req = sum(r.requests for r in loads)
        secs = sum(r.seconds for r in loads)
        p50s = [r.p50_ms for r in loads]
        self.rows_fresh.append(
            [
                len(lat) + misses,
                misses,
                _ms(lat, 50),
                _ms(lat, 95),
                _ms(lat, 100),
                _ms(patch, 50),
                _ms(polls, 50),
                _ms(polls, 95),
                f"{req / secs:,.0f}" if secs else "-",
                f"{statistics.median(p50s):.1f}" if p50s else "-",
                f"{max((r.rss_mib for r in loads), default=0):.0f}",
            ]
        )
        log(f"freshness: p50 {_ms(lat, 50):.0f} ms p95 {_ms(lat, 95):.0f} ms, {misses} misses")

    async def _writes(self, base: str, s: Any) -> tuple[list[float], int, list[float], list[float]]:
        from sqlalchemy import select

        from api.db import make_engine, make_sessionmaker
        from api.movies.models import Movie
        from api.users.security import create_access_token
        from api.users.service import ensure_admin

        engine = make_engine(setup.database_url(), pool_size=1, max_overflow=0)
        try:
            async with make_sessionmaker(engine)() as session:
                user = await ensure_admin(
                    session, "load-admin@example.com", secrets.token_urlsafe(16)
                )
                await session.commit()
                stmt = select(Movie.id, Movie.title).order_by(Movie.id)  # type: ignore[call-overload]
                rows = (await session.execute(stmt)).all()
        finally:
            await engine.dispose()
        assert user.id is not None
        headers = {"Authorization": f"Bearer {create_access_token(user.id, s.SECRET_KEY, 120)}"}
        rng = random.Random(setup.SEED)
        lat: list[float] = []
        patches: list[float] = []
        polls: list[float] = []
        misses = 0
        await asyncio.sleep(1.0)  # let wrk's load settle and the worker start
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for n, (movie_id, title) in enumerate(rng.sample(rows, self.o.writes + 1)):
                word = "".join(rng.choices(string.ascii_lowercase, k=12))
                sent = time.perf_counter()
                r = await client.patch(
                    f"/movies/{movie_id}", json={"title": f"{title} {word}"[:300]}, headers=headers
                )
                patches.append(time.perf_counter() - sent)
                r.raise_for_status()
                seen = None
                while time.perf_counter() - sent < FRESH_GIVE_UP:
                    t = time.perf_counter()
                    a = await client.get("/movies/search", params={"q": word, "per_page": 5})
                    polls.append(time.perf_counter() - t)
                    if a.status_code == 200 and any(
                        m["id"] == movie_id for m in a.json()["results"]
                    ):
                        seen = time.perf_counter() - sent
                        break
                    await asyncio.sleep(FRESH_POLL)
                if n == 0:
                    continue  # the first write also waits for the worker's start-up
                if seen is None:
                    misses += 1
                else:
                    lat.append(seen)
        return lat, misses, patches, polls

    # -- 6. where the server's time goes
    def measure_profiles(self) -> None:
        from bench import load_profile

        if not load_profile.available():
            self.notes.append("(no profiles: `.venv/bin/pip install py-spy` to get them)")
            return
        conns = max(self.o.conns)
        c = self.corpus
        cases = [
            ("cached GET /movies/popular", 300, c.paths_popular()),
            ("cached GET /movies/{id}", 300, c.paths_details()),
            ("uncached GET /movies/{id}", 0, c.paths_details()),
            ("uncached GET /movies/search (real)", 0, [c.search_path(q.q) for q in c.real]),
        ]
        self.profiles: list[str] = []
        for name, cache_ttl, paths in cases:
            with self.api(cache_ttl) as server:
                self.warm(server.url, paths if cache_ttl else paths[:20])
                raw = self.tmp / f"profile-{len(self.profiles)}.txt"
                spy = load_profile.start(server.pid, self.o.seconds, raw)
                time.sleep(0.5)
                r = self.wrk(server, paths, conns)
                try:
                    _, err = spy.communicate(timeout=self.o.seconds + 30)
                except subprocess.TimeoutExpired:
                    spy.kill()
                    err = b"timeout"
            if not raw.exists():
                self.profiles.append(
                    f"### {name}: py-spy failed: {err.decode(errors='replace')[-300:]}"
                )
                continue
            samples, rows = load_profile.summarize(raw)
            self.profiles.append(
                f"### {name} (c{conns}, {r.rps:,.0f} req/s while sampled; {samples:,} samples)\n\n"
                + table(
                    ["function (inclusive first, then by self time)", "inclusive %", "self %"],
                    [[f, f"{i:.1f}", f"{s_:.1f}"] for f, i, s_ in rows],
                )
            )
            log(f"profiled {name}")

    # -- 3. the report
    def ratios(self) -> list[list[Any]]:
        rows: list[list[Any]] = []
        hi = str(max(self.o.conns))
        lo = str(min(self.o.conns))
        for set_name, api_name in (
            ("real", "GET /movies/search (real)"),
            ("misspelled", "GET /movies/search (misspelled)"),
        ):
            for conns in (lo, hi):
                api = self.res.get(("api", api_name, "uncached", conns))
                meili = self.res.get(("meili", set_name, conns))
                if api and meili:
                    ratio = api.p50_ms / meili.p50_ms
                    rows.append(
                        [
                            f"uncached search p50 ({set_name}, c{conns}) / Meilisearch p50",
                            f"{api.p50_ms:.2f} / {meili.p50_ms:.2f} ms",
                            f"{ratio:.2f}×",
                            f"≤ {TARGET_SEARCH_RATIO}×",
                            verdict(ratio / TARGET_SEARCH_RATIO),
                        ]
                    )
        for name in ("GET /movies/{id}", "GET /movies/popular"):
            api = self.res.get(("api", name, "cached", hi))
            bare = self.res.get(("bare", name, hi))
            if api and bare:
                share = api.rps / bare.rps
                rows.append(
                    [
                        f"cached {name} req/s (c{hi}) / bare ASGI",
                        f"{api.rps:,.0f} / {bare.rps:,.0f}",
                        f"{100 * share:.0f}%",
                        f"≥ {100 * TARGET_CEILING_SHARE:.0f}%",
                        verdict(TARGET_CEILING_SHARE / share),
                    ]
                )
        peak = max((r.rss_mib for k, r in self.res.items() if k[0] == "api"), default=0.0)
        rows.append(
            [
                "API RSS under load (peak, --workers 1, all runs)",
                f"{peak:.0f} MiB",
                "",
                f"< {TARGET_RSS_MIB:.0f} MB",
                "met" if peak < TARGET_RSS_MIB else "MISSED",
            ]
        )
        return rows

    def report(self) -> str:
        lat = ["req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors/non-2xx"]
        pin = (
            (
                f"server on CPU {SERVER_CPUS}, wrk (1 thread) on CPU {LOAD_CPUS} (taskset); "
                "MariaDB, Redis and Meilisearch unpinned"
            )
            if can_pin()
            else "no pinning (taskset or 2 CPUs missing)"
        )
        parts = [
            f"TMDB 5000 in MariaDB, Meilisearch index, Redis cache; uvicorn `{' '.join(PROCFILE)}` "
            f"(auto: httptools + uvloop) unless said otherwise; {pin}. "
            f"Each step {self.o.seconds:g} s "
            f"of wrk rotating through its request list. Search pages are page 1 of 20 results.",
            "## 1. The API: cached (CACHE_TTL_SECONDS=300, warmed) and uncached (0)",
            table(["endpoint", "cache", "conns", *lat, "server RSS MiB"], self.rows_api),
            "## 2. Floor and ceiling: Meilisearch's own HTTP API, a bare ASGI app",
            "Meilisearch gets the very body the API sends (`indexer.search.search_request`: same "
            "page, hitsPerPage, facets, highlighting, attributesToRetrieve) with "
            "`Accept-Encoding: identity` and the master key; the bare app answers the very bytes "
            "of the API's cached answers.",
            table(["target", "conns", *lat, "KiB/response"], self.rows_floor),
            "### Naive MySQL search (bench/naive_sql.py), driven from Python (asyncmy) on CPU 1",
            table(
                ["method", "queries", "conns", "q/s", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                self.rows_naive,
            ),
            "### Hit rate: is the intended movie (or, for an actor, one of their films) "
            "in the top 10?",
            table(["queries", "n", "our search", *naive_sql.SEARCHES], self.rows_hits),
            "## 3. Against the targets (same run)",
            table(["measure", "figures", "ratio", "target", "verdict"], self.ratios()),
            f"## 4. Serving settings (c{max(self.o.conns)}; cached `/movies/popular` and "
            "uncached real searches; "
            f"best of {1 if self.o.quick else 2} interleaved rounds)",
            "uvicorn's default `--timeout-keep-alive` is already 5 s, so `default` vs `5` "
            "is the same "
            "server; the keep-alive row instead shows clients that do not keep connections alive.",
            table(
                [
                    "uvicorn",
                    "popular req/s",
                    "p50 ms",
                    "p99 ms",
                    "search req/s",
                    "p50 ms",
                    "p99 ms",
                    "peak RSS MiB",
                ],
                self.rows_settings,
            ),
            f"## 5. Write to searchable under search load (c{max(self.o.conns)} real searches, "
            "cache on, `marquee worker` running)",
            table(
                [
                    "writes",
                    "misses",
                    "p50 ms",
                    "p95 ms",
                    "max ms",
                    "PATCH p50 ms",
                    "poll search p50 ms",
                    "poll p95 ms",
                    "background req/s",
                    "background p50 ms",
                    "server RSS MiB",
                ],
                self.rows_fresh,
            ),
        ]
        if getattr(self, "profiles", None):
            parts.append(
                "## 6. Where the server's CPU goes (py-spy, --nonblocking, 250 Hz; share of "
                "samples with the server busy, idle excluded)"
            )
            parts += self.profiles
        parts += self.notes
        return "\n\n".join(parts)


def run(quick: bool = False, profile: bool = True) -> str:
    opts = Opts(3, (1, 32), 8, True) if quick else Opts(10, (1, 32), 30, False)
    if not subprocess.run(["which", "wrk"], capture_output=True).returncode == 0:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="marquee-bench-load-") as tmp, ExitStack() as stack:
        bench = LoadBench(opts, stack, Path(tmp))
        try:
            bench.start()
            bench.measure_api()
            bench.measure_floor_and_ceiling()
            bench.measure_naive()
            bench.measure_settings()
            bench.measure_freshness()
            if profile:
                bench.measure_profiles()
        except BaseException:
            logs = Path(tmp) / "servers.log"
            if logs.exists():
                print(logs.read_text()[-3000:], file=sys.stderr)
            raise
        body = bench.report()
        rows = machine(asyncio.run(setup.mariadb_version()), setup.meili_version())
        rows.append(("wrk", wrk_version()))
        rows.append(
            ("pinning", f"server CPU {SERVER_CPUS}, wrk CPU {LOAD_CPUS}" if can_pin() else "none")
        )
    name = "load-quick" if quick else NAME
    path = write_result(name, "HTTP load: latency, throughput, memory (issue #5)", body, rows)
    command = "python -m bench.load_bench" + (" --quick" if quick else "")
    path.write_text(path.read_text().replace(f"`python -m bench {name}`", f"`{command}`", 1))
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 s steps, fewer configs and writes")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profiles")
    args = parser.parse_args(argv)
    print(run(quick=args.quick, profile=not args.no_profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
