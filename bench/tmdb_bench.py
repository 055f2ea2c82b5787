"""The TMDB-compatible layer against its native counterparts: `/3/movie/{id}` against
`/movies/{id}` and `/3/search/movie` against `/movies/search`, cached and uncached.

`python -m bench.tmdb_bench`: TMDB 5000 in the load benchmark's database, both indexes built by
`rebuild_index`, an account with an API key; the API as a uvicorn subprocess (the Procfile's
options, one process), once with the cache off and once with it on. Taking turns request by
request, each URL is sent to the native route and to its /3 twin through one client (http.client,
a keep-alive connection to each side), sequentially over loopback; with the cache on, every URL
is sent once first, so that the timed requests are hits. Target: /3 p50 within 1.15x native.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import urllib.parse
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from api.db import make_engine, make_sessionmaker
from api.movies.models import Movie
from api.serving import UVICORN_OPTIONS
from api.users import api_keys
from api.users.models import User
from api.users.security import hash_password
from bench import load_setup, people_search_bench, report, stack
from devstack.servers import free_port

REQUESTS = 300  # per route and cache state
TARGET = 1.15
CACHE_TTL = 300


@dataclass(frozen=True)
class Pair:
    """A native route and its /3 twin, with the requests sent to each."""

    name: str
    native: list[str]
    tmdb: list[str]


async def _key_and_ids() -> tuple[str, list[int], list[str]]:
    """An API key (a new account's), movie ids, and titles (every other one misspelled)."""
    engine = make_engine(load_setup.database_url())
    try:
        async with make_sessionmaker(engine)() as session:
            user = User.model_validate(
                {
                    "email": "bench-tmdb@example.com",
                    "password_hash": hash_password("bench-pass"),
                    "display_name": "bench",
                }
            )
            session.add(user)
            await session.flush()
            assert user.id is not None
            _, key = await api_keys.create(session, user.id, "bench")
            stmt = (
                select(col(Movie.id), col(Movie.title))
                .order_by(col(Movie.popularity).desc())
                .limit(REQUESTS)
            )
            rows = (await session.execute(stmt)).all()
            await session.commit()
    finally:
        await engine.dispose()
    rng = random.Random(load_setup.SEED)
    titles = [load_setup.misspell(t, rng) if i % 2 else t for i, (_, t) in enumerate(rows)]
    return key, [movie_id for movie_id, _ in rows if movie_id is not None], titles


def _pairs(key: str, ids: list[int], titles: list[str]) -> list[Pair]:
    def q(**params: object) -> str:
        return urllib.parse.urlencode(params)

    return [
        Pair(
            "movie details",
            [f"/movies/{i}" for i in ids],
            [f"/3/movie/{i}?{q(api_key=key)}" for i in ids],
        ),
        Pair(
            "movie search",
            [f"/movies/search?{q(q=t)}" for t in titles],
            [f"/3/search/movie?{q(api_key=key, query=t)}" for t in titles],
        ),
    ]


def _measure(url: str, pair: Pair, warm: bool) -> tuple[list[float], list[float]]:
    native, tmdb = people_search_bench.Client(url, {}), people_search_bench.Client(url, {})
    try:
        if warm:
            for a, b in zip(pair.native, pair.tmdb, strict=True):
                native.time("GET", a)
                tmdb.time("GET", b)
        native.time("GET", pair.native[0])  # a warm-up each, not timed
        tmdb.time("GET", pair.tmdb[0])
        times: tuple[list[float], list[float]] = ([], [])
        for a, b in zip(pair.native, pair.tmdb, strict=True):
            times[0].append(native.time("GET", a))
            times[1].append(tmdb.time("GET", b))
        return times
    finally:
        native.close()
        tmdb.close()


async def _run_api(settings: object, pairs: list[Pair], warm: bool) -> list[list[object]]:
    port = free_port()
    api = people_search_bench.api_process(settings, port, UVICORN_OPTIONS)
    try:
        url = f"http://127.0.0.1:{port}"
        await people_search_bench.wait_healthy(url)
        rows = []
        for pair in pairs:
            native, tmdb = await asyncio.to_thread(_measure, url, pair, warm)
            ratio = statistics.median(tmdb) / statistics.median(native)
            verdict = f"{ratio:.2f}x: {report.verdict(ratio / TARGET)}"
            state = "cached" if warm else "uncached"
            for side, ms in (("native", native), ("/3", tmdb)):
                rows.append([pair.name, state, side, len(ms), f"{statistics.median(ms):.2f}",
                             f"{report.pct(ms, 95):.2f}"])  # fmt: skip
            rows[-1].append(verdict)
            rows[-2].append("")
        return rows
    finally:
        api.terminate()
        api.wait(timeout=30)


async def run_async() -> str:
    await load_setup.create_database()
    await load_setup.import_catalog()
    rows: list[list[object]] = []
    with stack.meilisearch() as meili:
        key, ids, titles = await _key_and_ids()
        pairs = _pairs(key, ids, titles)
        for ttl in (0, CACHE_TTL):
            await load_setup.flush_redis()
            settings = load_setup.settings(meili.url, meili.key, ttl, load_setup.new_secret())
            if ttl == 0:
                await load_setup.build_index(settings)
            rows += await _run_api(settings, pairs, warm=ttl > 0)
    await load_setup.drop_database()
    body = report.table(
        ["route", "cache", "side", "requests", "p50 ms", "p95 ms", "/3 / native"], rows
    )
    return body + (
        "\n\nTMDB 5000; one uvicorn process with the Procfile's options; each request sent to "
        "the native route and to its /3 twin in turn, sequentially, over loopback, through one "
        "client (http.client, a keep-alive connection to each). The 300 most popular movies' "
        "ids and titles (every other title misspelled). Cached: every URL sent once first. "
        f"Target: /3 p50 within {TARGET}x native."
    )


def main() -> int:
    title = "The TMDB-compatible layer against native routes"
    stack.publish("tmdb", title, asyncio.run(run_async()), "python -m bench.tmdb_bench")
    return 0


if __name__ == "__main__":
    sys.exit(main())
