"""Importing the TMDB 5000 files (movies, credits, posters): streamed, batched, idempotent."""

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.movies.models import CastCredit, Genre, Movie, MovieDirector, MovieGenre
from api.outbox import SearchOutbox
from api.people.models import Person
from api.types import utcnow
from importer.files import CsvSource, KeyedReader, Row
from indexer.sorting import title_sort_key

BATCH_SIZE = 500
MAX_ID = 2**31 - 1
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_IMAGE = re.compile(r"^/[A-Za-z0-9._-]{1,250}$")


@dataclass
class ParsedMovie:
    movie: dict[str, Any]
    genres: list[tuple[int, str]]
    cast: list[dict[str, Any]]  # person_id, name, character, order
    directors: list[tuple[int, str]]
    line: int = 0  # where the movie was read, for the report
    raw_id: str = ""

    @property
    def where(self) -> str:
        return _where(self.line, self.raw_id)


def _where(line: int, raw_id: str) -> str:
    return f"line {line} (id {raw_id!r})"


@dataclass
class ImportReport:
    imported: int = 0
    skipped_existing: int = 0
    skipped_invalid: int = 0
    people_created: int = 0
    genres_created: int = 0
    problems: list[str] = field(default_factory=list)

    def invalid(self, where: str, why: str) -> None:
        self.skipped_invalid += 1
        if len(self.problems) < 50:
            self.problems.append(f"{where}: {why}")


class InvalidRow(ValueError):
    pass


def _json_list(text: str, what: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(text) if text.strip() else []
    except json.JSONDecodeError as exc:
        raise InvalidRow(f"{what} is not valid JSON") from exc
    if not isinstance(value, list):
        raise InvalidRow(f"{what} is not a JSON list")
    return [item for item in value if isinstance(item, dict)]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise InvalidRow(f"release_date {text!r} is not a date") from exc


def _number(text: str, kind: type, default: Any) -> Any:
    if text in ("", None):
        return default
    try:
        value = float(text)
    except ValueError as exc:
        raise InvalidRow(f"{text!r} is not a number") from exc
    if not math.isfinite(value):  # "nan"/"inf" parse as floats but no column can hold them
        raise InvalidRow(f"{text!r} is not a finite number")
    return kind(value)


def _db_id(value: Any, what: str) -> int:
    """A positive id that fits the INT columns (TMDB ids do; anything else would fail the batch)."""
    number = _number(str(value), int, None)
    if number is None or not 1 <= number <= MAX_ID:
        raise InvalidRow(f"{what} {value!r} is not an id between 1 and {MAX_ID}")
    return int(number)


def _clip(text: str | None, limit: int) -> str | None:
    return text[:limit] if text else None


def parse_movie(row: Row, credits: Row | None, poster: Row | None) -> ParsedMovie:
    if not (row.get("id") or "").strip():
        raise InvalidRow("missing id")
    movie_id = _db_id(row["id"].strip(), "id")
    title = (row.get("title") or "").strip()
    if not title:
        raise InvalidRow("missing title")
    language = (row.get("original_language") or "").strip().lower()
    votes = _number(row.get("vote_average", ""), float, 0.0)
    count = _number(row.get("vote_count", ""), int, 0)
    poster_path = (poster or {}).get("poster_path") or None
    movie = {
        "id": movie_id,
        "title": title[:300],
        "original_title": ((row.get("original_title") or "").strip() or title)[:300],
        "sort_title": title_sort_key(title),
        "overview": (row.get("overview") or "").strip()[:10_000],
        "tagline": _clip((row.get("tagline") or "").strip(), 500),
        "release_date": _date((row.get("release_date") or "").strip()),
        "original_language": language if _LANGUAGE.match(language) else "xx",
        "runtime": _number(row.get("runtime", ""), int, None) or None,
        "status": (row.get("status") or "Released").strip()[:32] or "Released",
        "poster_path": poster_path if poster_path and _IMAGE.match(poster_path) else None,
        "popularity": max(0.0, _number(row.get("popularity", ""), float, 0.0)),
        "base_vote_average": min(max(votes, 0.0), 10.0),
        "base_vote_count": max(count, 0),
    }
    genres = [
        (_db_id(g["id"], "genre id"), str(g["name"])[:64])
        for g in _json_list(row.get("genres", ""), "genres")
        if "id" in g
    ]
    cast, directors = _credits(credits)
    return ParsedMovie(movie, genres, cast, directors)


def _credits(credits: Row | None) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    if credits is None:
        return [], []
    cast = [
        {
            "person_id": _db_id(c["id"], "cast person id"),
            "name": str(c.get("name") or "")[:200],
            "character": _clip(str(c.get("character") or ""), 500),
            "order": int(c.get("order") or 0),
        }
        for c in _json_list(credits.get("cast", ""), "cast")
        if c.get("id") and c.get("name")
    ]
    crew = _json_list(credits.get("crew", ""), "crew")
    directors = [
        (_db_id(c["id"], "director id"), str(c["name"])[:200])
        for c in crew
        if c.get("job") == "Director"
    ]
    return cast, list(dict.fromkeys(directors))


def read_movies(
    movies: CsvSource, credits: CsvSource | None, posters: CsvSource | None, report: ImportReport
) -> Iterator[ParsedMovie]:
    credit_rows = KeyedReader(credits.rows(), lambda r: r.get("movie_id", "")) if credits else None
    poster_rows = KeyedReader(posters.rows(), lambda r: r.get("movie_id", "")) if posters else None
    for row in movies.rows():
        movie_id, line = row.get("id", ""), movies.line_of_last_row()
        credit = credit_rows.pop(movie_id) if credit_rows else None
        poster = poster_rows.pop(movie_id) if poster_rows else None
        try:
            parsed = parse_movie(row, credit, poster)
        except (InvalidRow, KeyError, TypeError, ValueError, OverflowError) as exc:
            report.invalid(_where(line, movie_id), str(exc))
            continue
        parsed.line, parsed.raw_id = line, movie_id
        yield parsed


def _batches(
    items: Iterator[ParsedMovie], size: int, report: ImportReport
) -> Iterator[list[ParsedMovie]]:
    """Batches of distinct movies. A repeated id would fail its batch on the primary key, so a
    repeat within a batch is reported here; one in a later batch finds the movie imported and
    is skipped as existing. Only the current batch's ids are kept: memory stays flat."""
    batch: list[ParsedMovie] = []
    first_line: dict[int, int] = {}
    for item in items:
        seen = first_line.setdefault(item.movie["id"], item.line)
        if seen != item.line:
            report.invalid(item.where, f"repeats the id of line {seen}")
            continue
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch, first_line = [], {}
    if batch:
        yield batch


async def _existing_ids(session: AsyncSession, model: Any, ids: set[int]) -> set[int]:
    found: set[int] = set()
    chunk = sorted(ids)
    for start in range(0, len(chunk), 1000):
        part = chunk[start : start + 1000]
        found.update((await session.execute(select(model.id).where(model.id.in_(part)))).scalars())
    return found


async def _insert_missing(
    session: AsyncSession, model: Any, rows: dict[int, dict[str, Any]]
) -> int:
    missing = set(rows) - await _existing_ids(session, model, set(rows))
    if missing:
        await session.execute(insert(model), [rows[i] for i in sorted(missing)])
    return len(missing)


async def _known_genre_names(session: AsyncSession) -> set[str]:
    return {name.lower() for name in (await session.execute(select(col(Genre.name)))).scalars()}


async def load_batch(session: AsyncSession, batch: list[ParsedMovie], report: ImportReport) -> None:
    """Insert the batch's new movies with their genres, people and credits (one transaction)."""
    existing = await _existing_ids(session, Movie, {p.movie["id"] for p in batch})
    fresh = [p for p in batch if p.movie["id"] not in existing]
    report.skipped_existing += len(batch) - len(fresh)
    if not fresh:
        return
    genre_names = await _known_genre_names(session)
    genres = {
        gid: {"id": gid, "name": name}
        for p in fresh
        for gid, name in p.genres
        if name.lower() not in genre_names
    }
    report.genres_created += await _insert_missing(session, Genre, genres)
    people = {
        c["person_id"]: {"id": c["person_id"], "name": c["name"]} for p in fresh for c in p.cast
    }
    people.update({pid: {"id": pid, "name": name} for p in fresh for pid, name in p.directors})
    report.people_created += await _insert_missing(session, Person, people)
    await _insert_movies(session, fresh)
    report.imported += len(fresh)


async def _insert_movies(session: AsyncSession, fresh: list[ParsedMovie]) -> None:
    now = utcnow()
    fresh_fields = {
        "user_rating_sum": 0.0,
        "user_rating_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    movies = [
        {
            **p.movie,
            **fresh_fields,
            "vote_average": p.movie["base_vote_average"],
            "vote_count": p.movie["base_vote_count"],
        }
        for p in fresh
    ]  # fmt: skip
    await session.execute(insert(Movie), movies)
    genre_ids = await _genre_ids_by_name(session)
    links = {
        (p.movie["id"], genre_ids[n.lower()])
        for p in fresh
        for _, n in p.genres
        if n.lower() in genre_ids
    }
    await _insert_rows(
        session, MovieGenre, [{"movie_id": m, "genre_id": g} for m, g in sorted(links)]
    )
    credits = [
        {
            "movie_id": p.movie["id"],
            "person_id": c["person_id"],
            "character": c["character"],
            "billing_order": c["order"],
        }
        for p in fresh
        for c in p.cast
    ]
    await _insert_rows(session, CastCredit, credits)
    directors = [
        {"movie_id": p.movie["id"], "person_id": pid, "position": i}
        for p in fresh
        for i, (pid, _) in enumerate(p.directors)
    ]
    await _insert_rows(session, MovieDirector, directors)
    await _insert_rows(
        session, SearchOutbox, [{"movie_id": p.movie["id"], "created_at": now} for p in fresh]
    )


async def _genre_ids_by_name(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(col(Genre.name), col(Genre.id)))
    return {name.lower(): gid for name, gid in rows.all() if gid is not None}


async def _insert_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(model), rows)


async def import_tmdb(
    sessionmaker: async_sessionmaker[AsyncSession],
    movies: Path,
    credits: Path | None = None,
    posters: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the files; movies already present (by id) are skipped, so a re-run changes nothing."""
    report = ImportReport()
    sources = [CsvSource(p) if p else None for p in (movies, credits, posters)]
    movies_src = sources[0]
    assert movies_src is not None
    try:
        parsed = read_movies(movies_src, sources[1], sources[2], report)
        for batch in _batches(parsed, BATCH_SIZE, report):
            async with sessionmaker() as session:
                await load_batch(session, batch, report)
                await session.commit()
            if on_progress:
                on_progress(movies_src.bytes_read(), movies_src.size)
    finally:
        for src in sources:
            if src:
                src.close()
    return report
