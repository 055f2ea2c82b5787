"""Search transports side by side: the very search bodies the API sends, timed through each
HTTP client candidate against one Meilisearch, beside Meilisearch's own figures.

    python -m bench.transport_ab [--c1 N] [--cn N] [--conns N] [--loop uvloop|asyncio]

TMDB 5000 is imported into its own database `marquee_bench_transport` (dropped at the end unless
`--keep-database`), indexed with the project's settings (`indexer.rebuild`) into a fresh index of
a throwaway Meilisearch (or MEILI_URL/MEILI_MASTER_KEY; the index is deleted at the end). Every
request is `indexer.search.search_request` for a query no earlier request used (real titles and
cast names, and misspelled ones, alternating), so no candidate meets an answer another one warmed.
Candidates take turns (request by request at c1, in blocks at cN), in rotating order, so the
shared machine's load falls on all of them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import random
import secrets
import sys
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import httpcore2
import httpx
import httpx2
import orjson
from meilisearch_python_sdk import AsyncClient
from sqlalchemy import text

from api.db import make_engine, make_sessionmaker
from bench import report, stack
from bench.load_setup import misspell
from bench.report import machine, table, write_result
from indexer import MovieFilters, make_client, rebuild, to_document
from indexer.search import search_request

NAME = "transport"
DATABASE = "marquee_bench_transport"
ROOT = Path(__file__).resolve().parents[1]
# The hand-written transport this benchmark was written to replace, read from git history.
LEGACY_COMMIT = "e53453b7bf44abf6a00e7645ad14344e7c64aa70"
LEGACY_PATH = "indexer/transport.py"
IDENTITY = {"Accept-Encoding": "identity"}
TIMEOUT = 10.0
BLOCK_C1 = 1  # sequential: candidates alternate request by request
SEED = 7


# ---- the request bodies ------------------------------------------------------------------


async def queries(url: str) -> list[str]:
    """Real titles and cast names, each followed by a misspelled form when it has one, shuffled
    in pairs: a long list of distinct queries in a mix that stays the same along the list."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            titles = [r[0] for r in await conn.execute(text("SELECT title FROM movie"))]
            names = [
                r[0]
                for r in await conn.execute(
                    text(
                        "SELECT DISTINCT p.name FROM person p JOIN cast_credit c "
                        "ON c.person_id = p.id WHERE c.billing_order < 8"
                    )
                )
            ]
    finally:
        await engine.dispose()
    rng = random.Random(SEED)
    seen: set[str] = set()
    pairs: list[list[str]] = []
    for phrase in sorted(set(titles)) + sorted(set(names)):
        pair = [phrase]
        words = phrase.split()
        longest = max(range(len(words)), key=lambda i: len(words[i]), default=None)
        if longest is not None and len(words[longest]) >= 5 and words[longest].isalpha():
            words[longest] = misspell(words[longest], rng)
            pair.append(" ".join(words))
        pair = [q for q in pair if q.lower() not in seen]
        seen.update(q.lower() for q in pair)
        if pair:
            pairs.append(pair)
    rng.shuffle(pairs)
    return [q for pair in pairs for q in pair]


def bodies(qs: Sequence[str]) -> Iterator[bytes]:
    """The very body the API sends for page 1 of 20 (its fields, facets and highlighting)."""
    from api.search.documents import RETRIEVED

    for q in qs:
        yield orjson.dumps(search_request(q, MovieFilters(), None, 1, 20, RETRIEVED))


# ---- the candidates ----------------------------------------------------------------------


class Candidate(Protocol):
    name: str

    async def post(self, body: bytes) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


@dataclass
class Target:
    url: str
    key: str
    uid: str

    @property
    def path(self) -> str:
        return f"indexes/{self.uid}/search"

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json", **extra}


def legacy_transport() -> types.ModuleType | None:
    """indexer/transport.py as it was before this benchmark (None without git history)."""
    return stack.module_at(LEGACY_COMMIT, LEGACY_PATH, "legacy_transport")


class Legacy:
    """(a) today's SearchTransport.post_search: hand-written HTTP/1.1 over asyncio streams."""

    name = "(a) legacy SearchTransport.post_search (hand-written HTTP/1.1)"

    def __init__(self, t: Target, module: types.ModuleType) -> None:
        self.http = httpx2.AsyncClient(base_url=t.url, headers=t.headers(**IDENTITY))
        self.http.timeout = httpx2.Timeout(TIMEOUT)
        self.transport = module.SearchTransport(httpx2.AsyncHTTPTransport())
        self.path = t.path

    async def post(self, body: bytes) -> tuple[int, bytes]:
        status, answer = await self.transport.post_search(self.http, self.path, body)
        return int(status), bytes(answer)

    async def aclose(self) -> None:
        await self.transport.aclose()
        await self.http.aclose()


class Httpx2Sdk:
    """(b) the SDK's own httpx2 client, as the SDK builds it, posting the body."""

    def __init__(self, t: Target, name: str, identity: bool = True) -> None:
        self.name = name
        # Not built with make_client: this row is plain httpx2, whatever indexer does.
        headers = IDENTITY if identity else None  # else httpx's gzip, deflate (br, zstd)
        self.client = AsyncClient(t.url, t.key, timeout=int(TIMEOUT), custom_headers=headers)
        self.http = self.client.http_client
        self.path = t.path
        self.headers = {"Content-Type": "application/json"}

    async def post(self, body: bytes) -> tuple[int, bytes]:
        response = await self.http.post(self.path, content=body, headers=self.headers)
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.client.aclose()


class HttpxLegacy:
    """(b') httpx 0.28 (the package the tests and benchmarks use), same settings."""

    name = "(b') httpx 0.28 AsyncClient.post, identity, keep-alive"

    def __init__(self, t: Target) -> None:
        self.http = httpx.AsyncClient(
            base_url=t.url, headers=t.headers(**IDENTITY), timeout=TIMEOUT
        )
        self.path = t.path

    async def post(self, body: bytes) -> tuple[int, bytes]:
        response = await self.http.post(self.path, content=body)
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.http.aclose()


class Httpcore2:
    """(b'') httpcore2's connection pool (the transport under httpx2) called directly."""

    name = "(b'') httpcore2.AsyncConnectionPool.request, identity, keep-alive"

    def __init__(self, t: Target, max_connections: int) -> None:
        self.pool = httpcore2.AsyncConnectionPool(max_connections=max_connections)
        self.url = f"{t.url}/{t.path}"
        self.headers = list(t.headers(**IDENTITY).items())
        self.extensions = {"timeout": dict.fromkeys(("connect", "read", "write", "pool"), TIMEOUT)}

    async def post(self, body: bytes) -> tuple[int, bytes]:
        response = await self.pool.request(
            "POST", self.url, headers=self.headers, content=body, extensions=self.extensions
        )
        return response.status, response.content

    async def aclose(self) -> None:
        await self.pool.aclose()


class Shipped:
    """(d) what make_client builds for searches: indexer.transport.SearchPool."""

    name = "(d) indexer.transport.SearchPool: httptools, bounded pool, one write"

    def __init__(self, t: Target, max_connections: int) -> None:
        self.client = make_client(t.url, t.key, TIMEOUT, max_connections=max_connections)
        assert self.client.searches is not None, "a proxy is configured for this URL"
        self.pool, self.path = self.client.searches, t.path

    async def post(self, body: bytes) -> tuple[int, bytes]:
        return await self.pool.post(self.path, body)

    async def aclose(self) -> None:
        await self.client.aclose()


class _Floor(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = bytearray()
        self.need = -1
        self.waiter: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.need < 0 and (end := self.buf.find(b"\r\n\r\n")) >= 0:
            start = self.buf.lower().index(b"content-length:", 0, end) + 15
            self.need = end + 4 + int(self.buf[start : self.buf.index(b"\r\n", start)])
        if 0 <= self.need <= len(self.buf) and self.waiter is not None:
            self.waiter.set_result(bytes(self.buf[: self.need]))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionResetError())


class Floor:
    """(e) the floor: one write, the answer taken by its Content-Length, nothing else."""

    name = "(e) floor: raw socket, one write, Content-Length only"

    def __init__(self, t: Target) -> None:
        url = httpx2.URL(t.url)
        self.host, self.port = url.host, url.port or 80
        self.idle: list[_Floor] = []
        head = f"POST /{t.path} HTTP/1.1\r\nHost: {url.netloc.decode()}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in t.headers(**IDENTITY).items())
        self.head = head.encode()

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.idle:
            conn = self.idle.pop()
        else:
            loop = asyncio.get_running_loop()
            _, conn = await loop.create_connection(_Floor, self.host, self.port)
        conn.buf.clear()
        conn.need = -1
        conn.waiter = asyncio.get_running_loop().create_future()
        conn.transport.write(b"%sContent-Length: %d\r\n\r\n%s" % (self.head, len(body), body))
        answer = await conn.waiter
        self.idle.append(conn)
        head, _, body = answer.partition(b"\r\n\r\n")
        return int(head[9:12]), body

    async def aclose(self) -> None:
        for conn in self.idle:
            conn.transport.close()


# ---- running them ------------------------------------------------------------------------


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0
    wall: float = 0.0
    errors: int = 0
    engine_ms: list[int] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        self.latencies += other.latencies
        self.cpu += other.cpu
        self.wall += other.wall
        self.errors += other.errors
        self.engine_ms += other.engine_ms


async def block(post: Callable[[bytes], Awaitable[tuple[int, bytes]]], load: list[bytes],
                conns: int) -> Figures:  # fmt: skip
    """Send every body of `load` with `conns` in flight; time each, and the process's CPU."""
    figures = Figures()
    queue = iter(load)

    async def worker() -> None:
        for body in queue:
            started = time.perf_counter()
            try:
                status, answer = await post(body)
            except Exception:  # noqa: BLE001 - counted, and the run goes on
                figures.errors += 1
                continue
            figures.latencies.append(time.perf_counter() - started)
            if status != 200:
                figures.errors += 1
            elif (at := answer.find(b'"processingTimeMs":')) >= 0:
                figures.engine_ms.append(int(answer[at + 19 : answer.index(b",", at)]))

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    figures.cpu, figures.wall = time.process_time() - cpu, time.perf_counter() - wall
    return figures


async def measure(
    candidates: Sequence[Candidate], source: Iterator[bytes], count: int, conns: int
) -> dict[str, Figures]:
    """`count` requests per candidate with `conns` in flight, in rotating blocks."""
    size = BLOCK_C1 if conns == 1 else conns * 8
    results = {c.name: Figures() for c in candidates}
    order = list(candidates)
    for _ in range(max(1, count // size)):
        for candidate in order:
            load = [next(source) for _ in range(size)]
            results[candidate.name].add(await block(candidate.post, load, conns))
        order = order[1:] + order[:1]
    return results


def rows(results: dict[str, Figures], conns: int) -> list[list[Any]]:
    floor = report.pct(results[Floor.name].latencies, 50) if Floor.name in results else float("nan")
    out: list[list[Any]] = []
    for name, f in results.items():
        done = len(f.latencies)
        p50 = report.pct(f.latencies, 50)
        out.append(
            [
                name,
                f"c{conns}",
                done,
                f.errors,
                f"{done / f.wall:,.0f}" if f.wall else "-",
                p50 * 1000,
                report.pct(f.latencies, 95) * 1000,
                "" if name == Floor.name else f"{1000 * (p50 - floor):+.2f}",
                f"{1000 * f.cpu / done:.3f}" if done else "-",
            ]
        )
    return out


# ---- setup -------------------------------------------------------------------------------


async def build_index(url: str, meili: stack.Meili, uid: str) -> int:
    from api.search.queries import iter_source_batches

    engine = make_engine(url)
    admin = make_client(meili.url, meili.key, 60.0)

    async def batches() -> AsyncIterator[list[dict[str, Any]]]:
        async for batch in iter_source_batches(make_sessionmaker(engine), 1000):
            yield [to_document(source) for source in batch]

    try:
        return await rebuild(admin, uid, batches())
    finally:
        await admin.aclose()
        await engine.dispose()


async def drop_index(meili: stack.Meili, uid: str) -> None:
    admin = make_client(meili.url, meili.key, 60.0)
    try:
        for info in await admin.get_raw_indexes(limit=1000) or []:
            if info.uid.startswith(uid):
                task = await admin.index(info.uid).delete()
                await admin.wait_for_task(task.task_uid, timeout_in_ms=30_000)
    finally:
        await admin.aclose()


# ---- the benchmark -----------------------------------------------------------------------


@dataclass
class Opts:
    c1: int
    cn: int
    conns: int
    loop: str
    keep_database: bool


def build(t: Target, conns: int, legacy: types.ModuleType | None) -> list[Candidate]:
    out: list[Candidate] = []
    if legacy is not None:
        out.append(Legacy(t, legacy))
    out.append(Httpx2Sdk(t, "(b) httpx2 AsyncClient.post (the SDK's client), identity, keep-alive"))
    out += [HttpxLegacy(t), Httpcore2(t, conns), Shipped(t, conns), Floor(t)]
    return out


async def session(opts: Opts, t: Target, qs: list[str], notes: list[str]) -> str:
    legacy = legacy_transport()
    if legacy is None:
        notes.append(f"(a) skipped: `git show {LEGACY_COMMIT}:{LEGACY_PATH}` failed here.")
    source = bodies(qs)
    candidates = build(t, opts.conns, legacy)
    gzip = Httpx2Sdk(t, "(b) httpx2, default Accept-Encoding (gzip)", identity=False)
    try:
        for c in [*candidates, gzip]:  # connections opened, nothing measured
            for body in [next(source) for _ in range(3)]:
                await c.post(body)
        print("  sequential (c1)", flush=True)
        c1 = await measure(candidates, source, opts.c1, 1)
        c1 |= await measure([gzip], source, min(opts.c1, 100), 1)
        print(f"  concurrent (c{opts.conns})", flush=True)
        cn = await measure(candidates, source, opts.cn, opts.conns)
    finally:
        for c in [*candidates, gzip]:
            await c.aclose()
    engine = [ms for f in [*c1.values(), *cn.values()] for ms in f.engine_ms]
    headers = ["candidate", "conns", "requests", "errors", "req/s", "p50 ms", "p95 ms",
               "p50 over (e), ms", "client CPU ms/request"]  # fmt: skip
    lines = [
        table(headers, rows(c1, 1) + rows(cn, opts.conns)),
        f"Meilisearch's own `processingTimeMs` (whole ms) in the same answers: p50 "
        f"{report.pct(engine, 50):.0f} ms, p95 {report.pct(engine, 95):.0f} ms "
        f"({len(engine):,} answers).",
    ]
    return "\n\n".join(lines)


def run(opts: Opts) -> str:
    notes: list[str] = []
    uid = f"transport_ab_{secrets.token_hex(4)}"
    with stack.meilisearch() as meili:
        url = asyncio.run(stack.ensure_tmdb_catalog(DATABASE))
        try:
            print("  indexing", flush=True)
            count = asyncio.run(build_index(url, meili, uid))
            qs = asyncio.run(queries(url))
            need = (opts.c1 + opts.cn) * 6 + min(opts.c1, 100) + 21
            if len(qs) < need:
                raise RuntimeError(f"{len(qs):,} distinct queries for {need:,} requests")
            t = Target(meili.url, meili.key, uid)
            runner = _runner(opts.loop)
            body = runner(session(opts, t, qs, notes))
        finally:
            asyncio.run(drop_index(meili, uid))
            if not opts.keep_database:
                asyncio.run(stack.drop_database(DATABASE))
        intro = (
            f"TMDB 5000 ({count:,} movies); `indexer.search.search_request` bodies as the API "
            "sends them (page 1 of 20, its fields, facets, highlighting), each query sent once "
            "in the whole run (distinct real and "
            f"misspelled titles and cast names, alternating); {opts.loop} event loop; client "
            "unpinned, sharing the machine's cores with Meilisearch. Candidates take turns, "
            f"request by request at c1 and in blocks of {opts.conns * 8} at c{opts.conns}, in "
            "rotating order (the gzip row: alone, after the others). **p50 over (e)**: the "
            "candidate's p50 less the floor's, what the client adds to Meilisearch's answer. "
            "**client CPU**: `time.process_time()` of the benchmark process over the candidate's "
            "turns, per request (the harness included: the floor's row is its own cost). "
            f"(c) aiohttp: {_aiohttp()}."
        )
        text_ = "\n\n".join([intro, body, *notes])
        rows_ = machine(asyncio.run(stack.mariadb_version()), stack.meili_version())
    rows_.append(("event loop", opts.loop))
    write_result(NAME, "Search transports side by side", text_, rows_,
                 command="python -m bench.transport_ab")  # fmt: skip
    return text_


def _aiohttp() -> str:
    """Whether aiohttp could be a candidate here (it is no dependency of the project)."""
    if importlib.util.find_spec("aiohttp") is None:
        return "not installed (`.venv/bin/pip list`), not measured"
    return "installed, but no candidate here: the project does not depend on it"


def _runner(loop: str) -> Callable[[Any], str]:
    if loop == "uvloop":
        import uvloop

        def go(coro: Any) -> str:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as r:
                return str(r.run(coro))

        return go
    return lambda coro: str(asyncio.run(coro))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.transport_ab", description=__doc__)
    parser.add_argument("--c1", type=int, default=600, help="sequential requests per candidate")
    parser.add_argument("--cn", type=int, default=1024, help="concurrent requests per candidate")
    parser.add_argument("--conns", type=int, default=32, help="requests in flight (and pool size)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--keep-database", action="store_true", help=f"keep {DATABASE} after")
    args = parser.parse_args(argv)
    opts = Opts(args.c1, args.cn, args.conns, args.loop, args.keep_database)
    print(run(opts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
