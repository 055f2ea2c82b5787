"""Helpers for the import tests: where the files are, a database of their own, and the figures
the files themselves give (read with csv/json, independently of the importer)."""

import csv
import gzip
import io
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import api.models  # noqa: F401 - registers every table on SQLModel.metadata
from api.db import make_engine
from api.movies.models import CastCredit, Genre, Movie, MovieDirector, MovieGenre
from api.outbox import SearchOutbox
from api.people.models import Person
from tests.conftest import TEST_DATABASE_URL

csv.field_size_limit(sys.maxsize)

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO_ROOT / "data" / "sample"
SAMPLE_FILES = tuple(SAMPLE_DIR / f"{name}.csv.gz" for name in ("movies", "credits", "posters"))
TMDB_DIR = REPO_ROOT.parent / "shared" / "data" / "movies"
TMDB_FILES = tuple(
    TMDB_DIR / f"tmdb_5000_{name}.csv.gz" for name in ("movies", "credits", "posters")
)
TMDB_MISSING_REASON = f"the TMDB 5000 files are not in {TMDB_DIR} (CI has them)"


def database_url(name: str) -> str:
    """TEST_DATABASE_URL with another database name: these tests commit, so they get databases
    of their own, suffixed with the process id so that two test runs on one server do not
    recreate each other's databases."""
    database = f"{name}_{os.getpid()}"
    return make_url(TEST_DATABASE_URL).set(database=database).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    server = make_engine(parsed.set(database="").render_as_string(hide_password=False))
    async with server.begin() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS `{parsed.database}`"))
    await server.dispose()


async def empty_all_tables(engine: AsyncEngine) -> None:
    """Delete every row of every model table the migrations created (children first)."""
    async with engine.begin() as conn:
        present = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name in present:
                await conn.execute(delete(table))


COUNTED = {
    "movie": Movie,
    "genre": Genre,
    "movie_genre": MovieGenre,
    "person": Person,
    "cast_credit": CastCredit,
    "movie_director": MovieDirector,
    "search_outbox": SearchOutbox,
}


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            name: (await conn.execute(select(func.count()).select_from(model))).scalar_one()
            for name, model in COUNTED.items()
        }


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open("rb") as raw:
        data = raw.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def write_rows(path: Path, rows: list[dict[str, str]], fieldnames: list[str]) -> Path:
    """A plain (not gzipped) CSV file."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    return path


@dataclass
class Expected:
    """What a correct import of the files holds, computed straight from the files."""

    movies: int
    genres: set[str]
    genre_links: int
    cast_credits: Counter[tuple[int, int, int]]  # (movie_id, person_id, order)
    actors: set[int]
    director_links: set[tuple[int, int]]
    people: set[int]
    posters: dict[int, str]
    cast_by_movie: dict[int, list[str]]  # names in billing order
    directors_by_movie: dict[int, list[str]]
    genres_by_movie: dict[int, set[str]]


def expected_from_files(movies: Path, credits: Path, posters: Path) -> Expected:
    movie_rows = read_rows(movies)
    genres_by_movie = {
        int(r["id"]): {g["name"] for g in json.loads(r["genres"] or "[]")} for r in movie_rows
    }
    cast_credits: Counter[tuple[int, int, int]] = Counter()
    cast_by_movie: dict[int, list[str]] = {}
    directors_by_movie: dict[int, list[str]] = {}
    director_links: set[tuple[int, int]] = set()
    actors: set[int] = set()
    people: set[int] = set()
    for row in read_rows(credits):
        movie_id = int(row["movie_id"])
        cast: list[dict[str, Any]] = json.loads(row["cast"] or "[]")
        for member in cast:
            cast_credits[(movie_id, member["id"], member["order"])] += 1
            actors.add(member["id"])
        ordered = sorted(cast, key=lambda m: m["order"])
        cast_by_movie[movie_id] = [m["name"] for m in ordered]
        crew = [c for c in json.loads(row["crew"] or "[]") if c.get("job") and c.get("name")]
        directors = [c for c in crew if c["job"] == "Director"]
        directors_by_movie[movie_id] = list(dict.fromkeys(c["name"] for c in directors))
        director_links.update((movie_id, c["id"]) for c in directors)
        people.update(c["id"] for c in crew)
    people |= actors
    return Expected(
        movies=len(movie_rows),
        genres=set().union(*genres_by_movie.values()),
        genre_links=sum(len(names) for names in genres_by_movie.values()),
        cast_credits=cast_credits,
        actors=actors,
        director_links=director_links,
        people=people,
        posters={
            int(r["movie_id"]): r["poster_path"] for r in read_rows(posters) if r["poster_path"]
        },
        cast_by_movie=cast_by_movie,
        directors_by_movie=directors_by_movie,
        genres_by_movie=genres_by_movie,
    )


async def stored_cast_credits(engine: AsyncEngine) -> Counter[tuple[int, int, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(CastCredit.movie_id, CastCredit.person_id, CastCredit.billing_order)
        )
        return Counter((m, p, o) for m, p, o in rows.all())


async def cast_names(engine: AsyncEngine, movie_id: int) -> list[str]:
    stmt = (
        select(Person.name)
        .join(CastCredit, CastCredit.person_id == Person.id)
        .where(CastCredit.movie_id == movie_id)
        .order_by(CastCredit.billing_order, CastCredit.id)
    )
    async with engine.connect() as conn:
        return list((await conn.execute(stmt)).scalars())


async def director_names(engine: AsyncEngine, movie_id: int) -> list[str]:
    stmt = (
        select(Person.name)
        .join(MovieDirector, MovieDirector.person_id == Person.id)
        .where(MovieDirector.movie_id == movie_id)
        .order_by(MovieDirector.position)
    )
    async with engine.connect() as conn:
        return list((await conn.execute(stmt)).scalars())


async def genre_names(engine: AsyncEngine, movie_id: int) -> set[str]:
    stmt = (
        select(Genre.name)
        .join(MovieGenre, MovieGenre.genre_id == Genre.id)
        .where(MovieGenre.movie_id == movie_id)
    )
    async with engine.connect() as conn:
        return set((await conn.execute(stmt)).scalars())
