"""People search through the API against Meilisearch's own answer to the same search.

`python -m bench.people_search_bench`: TMDB 5000 in the load benchmark's database, both indexes
built by `rebuild_index`, the API as a uvicorn subprocess with the cache off; then, taking turns
query by query (each query sent once to each side: first-seen), `GET /people/search?q=` and
Meilisearch's `POST /indexes/<people>/search` with the body the API's search sends.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable

import httpx
import orjson
from sqlalchemy import select

from api.db import make_engine, make_sessionmaker
from api.people.models import Person
from bench import load_setup, report, stack
from devstack.servers import free_port
from indexer import make_client
from indexer.client import MeiliClient

QUERIES = 300  # names of the most popular people, half of them misspelled
PER_PAGE = 20


async def _names() -> list[str]:
    engine = make_engine(load_setup.database_url())
    try:
        async with make_sessionmaker(engine)() as session:
            stmt = select(Person.name).order_by(Person.popularity.desc()).limit(QUERIES)  # type: ignore[attr-defined]
            names = list((await session.execute(stmt)).scalars())
    finally:
        await engine.dispose()
    rng = random.Random(load_setup.SEED)
    return [load_setup.misspell(n, rng) if i % 2 else n for i, n in enumerate(names)]


async def _time(call: Awaitable[httpx.Response]) -> float:
    started = time.perf_counter()
    response = await call
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


async def _time_meili(client: MeiliClient, path: str, body: bytes) -> float:
    started = time.perf_counter()
    status, _ = await client.post_search(path, body)
    assert status == 200, status
    return (time.perf_counter() - started) * 1000


async def _measure(
    api: str, meili: stack.Meili, index: str, names: list[str]
) -> dict[str, list[float]]:
    """Each query to the API, then the same search to Meilisearch through the project's own
    one-write connection pool (a request written in two parts waits ~40 ms for the server's
    delayed ACK: httpx would measure that, not the engine)."""
    times: dict[str, list[float]] = {"API": [], "Meilisearch": []}
    engine = make_client(meili.url, meili.key, 5.0)
    assert isinstance(engine, MeiliClient)
    path = f"indexes/{index}/search"
    try:
        async with httpx.AsyncClient(base_url=api) as to_api:
            for q in names:
                params = {"q": q, "per_page": PER_PAGE}
                times["API"].append(await _time(to_api.get("/people/search", params=params)))
                body = orjson.dumps({"q": q, "page": 1, "hitsPerPage": PER_PAGE})
                times["Meilisearch"].append(await _time_meili(engine, path, body))
    finally:
        await engine.aclose()
    return times


def _api(settings: object, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(command, env=load_setup.env(settings))  # type: ignore[arg-type]


async def _wait(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the API did not start")


async def run_async() -> str:
    await load_setup.create_database()
    await load_setup.import_catalog()
    with stack.meilisearch() as meili:
        settings = load_setup.settings(meili.url, meili.key, 0, load_setup.new_secret())
        await load_setup.build_index(settings)
        port = free_port()
        api = _api(settings, port)
        try:
            await _wait(f"http://127.0.0.1:{port}")
            names = await _names()
            times = await _measure(f"http://127.0.0.1:{port}", meili, settings.people_index, names)
        finally:
            api.terminate()
            api.wait(timeout=30)
    await load_setup.drop_database()
    return _report(times)


def _report(times: dict[str, list[float]]) -> str:
    meili = statistics.median(times["Meilisearch"])
    rows = [
        [side, len(ms), f"{statistics.median(ms):.2f}", f"{report.pct(ms, 95):.2f}",
         f"{statistics.median(ms) / meili:.2f}x"]
        for side, ms in times.items()
    ]  # fmt: skip
    body = report.table(["", "queries", "p50 ms", "p95 ms", "p50 / Meilisearch's"], rows)
    note = (
        "\n\nTMDB 5000 (104,842 people); the API uncached (CACHE_TTL_SECONDS=0), one uvicorn "
        "process; each query (a popular name, every other one misspelled) sent once to each "
        "side in turn, sequentially, over loopback. Target: API p50 within 1.3x Meilisearch's."
    )
    return body + note


def main() -> int:
    body = asyncio.run(run_async())
    print(body)
    machine = report.machine(asyncio.run(stack.mariadb_version()), stack.meili_version())
    report.write_result(
        "people-search", "People search: the API against Meilisearch", body, machine,
        "python -m bench.people_search_bench",
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
