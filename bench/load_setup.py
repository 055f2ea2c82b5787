"""The load benchmark's setup: its own database, Meilisearch, index and Redis database, and the
request lists it drives (ids, lists, filters, real and misspelled searches from the data)."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import subprocess
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from redis.asyncio import Redis
from sqlalchemy import text

from api.db import make_engine, make_sessionmaker
from api.settings import Settings
from bench import stack
from importer.tmdb import import_tmdb
from worker.cli import alembic_config

MYSQL_SERVER = os.environ.get("BENCH_MYSQL_URL", "mysql+asyncmy://root@127.0.0.1:3306")
DATABASE = "marquee_bench_load"
REDIS_URL = os.environ.get("BENCH_LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
INDEX = "bench_load"
DATA = Path(
    os.environ.get(
        "BENCH_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared/data/movies")
    )
)
TMDB_FILES = [DATA / f"tmdb_5000_{n}.csv.gz" for n in ("movies", "credits", "posters")]
SEED = 5


def database_url() -> str:
    return f"{MYSQL_SERVER}/{DATABASE}"


async def _server(*statements: str) -> list[object]:
    engine = make_engine(MYSQL_SERVER + "/", pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            out = []
            for s in statements:
                r = await conn.execute(text(s))
                out.append(r.scalar() if r.returns_rows else None)
            return out
    finally:
        await engine.dispose()


async def mariadb_version() -> str:
    return str((await _server("SELECT VERSION()"))[0])


async def create_database() -> None:
    await _server(
        f"DROP DATABASE IF EXISTS `{DATABASE}`",
        f"CREATE DATABASE `{DATABASE}` CHARACTER SET utf8mb4",
    )
    await asyncio.to_thread(command.upgrade, alembic_config(database_url()), "head")


async def drop_database() -> None:
    await _server(f"DROP DATABASE IF EXISTS `{DATABASE}`")


async def flush_redis() -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


async def import_catalog() -> None:
    engine = make_engine(database_url())
    try:
        movies, credits, posters = TMDB_FILES
        await import_tmdb(make_sessionmaker(engine), movies, credits, posters)
    finally:
        await engine.dispose()


async def build_index(settings: Settings) -> int:
    """rebuild_index (what `marquee reindex` runs), then the import's outbox marked done: the
    rebuild indexed those movies, so a worker started later has nothing left to catch up on."""
    from worker.resources import connect_redis, open_resources
    from worker.sync import rebuild_index

    redis = await connect_redis(settings)
    res = await open_resources(settings, redis)
    try:
        # The import's outbox entries are older than the rebuild: no replay of 4,803 movies after
        # the swap (the rebuild reads them all anyway), and nothing left for a worker to drain.
        async with res.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE search_outbox SET processed_at = UTC_TIMESTAMP(6), "
                    "created_at = created_at - INTERVAL 1 DAY WHERE processed_at IS NULL"
                )
            )
        return (await rebuild_index(res)).indexed
    finally:
        await res.close()
        await redis.aclose()


def settings(meili_url: str, meili_key: str, cache_ttl: int, secret: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        ENVIRONMENT="production",
        DATABASE_URL=database_url(),
        REDIS_URL=REDIS_URL,
        MEILI_URL=meili_url,
        MEILI_MASTER_KEY=meili_key,
        MEILI_INDEX=INDEX,
        SECRET_KEY=secret,
        CACHE_TTL_SECONDS=cache_ttl,
        LOG_LEVEL="WARNING",
        # One key drives thousands of /3 requests a second here: its budget is not measured.
        RATE_LIMIT_API_KEY="1000000/second",
    )


def env(s: Settings) -> dict[str, str]:
    return stack.env(s, "ENVIRONMENT", "CACHE_TTL_SECONDS", "RATE_LIMIT_API_KEY")


def new_secret() -> str:
    return secrets.token_urlsafe(40)


def meili_version() -> str:
    from devstack.servers import meilisearch_binary

    done = subprocess.run([str(meilisearch_binary()), "--version"], capture_output=True, text=True)
    return done.stdout.strip().removeprefix("meilisearch ").strip()


# ---- the request lists -------------------------------------------------------------------


@dataclass
class Query:
    q: str
    kind: str  # "title", "actor", "title typo", "actor typo"
    expected: frozenset[int]  # a hit: any of these among the top 10


@dataclass
class Corpus:
    movie_ids: list[int]
    popular_pages: list[int]
    filters: list[str]  # query strings for /movies/filter
    real: list[Query]
    typos: list[Query]
    titles: dict[int, str] = field(default_factory=dict)

    def paths_details(self) -> list[str]:
        return [f"/movies/{i}" for i in self.movie_ids]

    def paths_popular(self) -> list[str]:
        return [
            "/movies/popular" if p == 1 else f"/movies/popular?page={p}" for p in self.popular_pages
        ]

    def paths_filter(self) -> list[str]:
        return [f"/movies/filter?{f}" for f in self.filters]

    @staticmethod
    def search_path(q: str, per_page: int | None = None) -> str:
        params = {"q": q} | ({"per_page": str(per_page)} if per_page else {})
        return "/movies/search?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def misspell(word: str, rng: random.Random) -> str:
    """One typo inside the word (never its first letter): two neighbours swapped, or one dropped."""
    for _ in range(20):
        i = rng.randrange(1, len(word) - 1)
        if rng.random() < 0.5 and word[i] != word[i + 1]:
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            out = word[:i] + word[i + 1 :]
        if out.lower() != word.lower():
            return out
    return word[:-1]


def _typo_phrase(phrase: str, rng: random.Random) -> str | None:
    """The phrase with a typo in its longest word of 5+ letters (None if it has none)."""
    words = phrase.split()
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return None
    i = max(candidates, key=lambda k: (len(words[k]), -k))
    words[i] = misspell(words[i], rng)
    return " ".join(words)


async def build_corpus(n_ids: int = 500, n_titles: int = 150, n_actors: int = 50) -> Corpus:
    rng = random.Random(SEED)
    engine = make_engine(database_url(), pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            movies = (
                await conn.execute(text("SELECT id, title, vote_count FROM movie ORDER BY id"))
            ).all()
            genres = [
                r[0] for r in await conn.execute(text("SELECT name FROM genre ORDER BY name"))
            ]
            credits = (
                await conn.execute(
                    text(
                        "SELECT p.name, c.movie_id FROM cast_credit c "
                        "JOIN person p ON p.id = c.person_id "
                        "WHERE c.billing_order < 5"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    titles = {m[0]: m[1] for m in movies}
    by_title: dict[str, set[int]] = defaultdict(set)
    for movie_id, title, _ in movies:
        by_title[title.lower()].add(movie_id)
    by_actor: dict[str, set[int]] = defaultdict(set)
    for name, movie_id in credits:
        by_actor[name].add(movie_id)

    ids = rng.sample([m[0] for m in movies], min(n_ids, len(movies)))
    known = [m for m in movies if m[2] >= 200]
    picked = rng.sample(known, min(n_titles, len(known)))
    actors = sorted(a for a, ms in by_actor.items() if len(ms) >= 6 and len(a.split()) >= 2)
    picked_actors = rng.sample(actors, min(n_actors, len(actors)))

    real: list[Query] = []
    typos: list[Query] = []
    for _, title, _ in picked:
        expected = frozenset(by_title[title.lower()])
        real.append(Query(title, "title", expected))
        typo = _typo_phrase(title, rng)
        if typo:
            typos.append(Query(typo, "title typo", expected))
    for name in picked_actors:
        expected = frozenset(by_actor[name])
        real.append(Query(name, "actor", expected))
        typo = _typo_phrase(name, rng)
        if typo:
            typos.append(Query(typo, "actor typo", expected))

    sorts = ["popularity.desc", "vote_average.desc", "release_date.desc", "title.asc"]
    filters = [urllib.parse.urlencode({"genre": g, "sort_by": s}) for g in genres for s in sorts]
    filters += [
        urllib.parse.urlencode({"genre": f"{a},{b}", "sort_by": "popularity.desc"})
        for a, b in zip(genres, genres[1:], strict=False)
    ]
    rng.shuffle(filters)
    rng.shuffle(real)
    rng.shuffle(typos)
    return Corpus(ids, [1, 2, 3, 4, 5], filters, real, typos, titles)
