"""Importing the TMDB 5000 files (movies, credits, posters): streamed, batched, idempotent."""

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.movies.models import (
    CastCredit,
    Company,
    CrewCredit,
    Genre,
    Keyword,
    Movie,
    MovieCompany,
    MovieCountry,
    MovieDirector,
    MovieGenre,
    MovieKeyword,
    MovieLanguage,
)
from api.outbox import add_entries
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
    cast: list[dict[str, Any]]  # person_id, name, gender, character, order
    directors: list[tuple[int, str]]
    # person_id, name, gender, department, job
    crew: list[dict[str, Any]] = field(default_factory=list)
    keywords: list[tuple[int, str]] = field(default_factory=list)
    companies: list[tuple[int, str]] = field(default_factory=list)
    countries: list[tuple[str, str]] = field(default_factory=list)  # ISO 3166-1, name
    languages: list[tuple[str, str]] = field(default_factory=list)  # ISO 639-1, name
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
    filled: int = 0  # movies already present that lacked part of the record, filled in
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


def _money(text: str) -> int | None:
    """US dollars; TMDB's 0 means unknown."""
    value = _number(text, int, 0)
    return value if 0 < value < 2**63 else None


def _named_ids(text: str, what: str, limit: int) -> list[tuple[int, str]]:
    """[{"id", "name"}] as (id, name) pairs, in order, each id once."""
    pairs = [
        (_db_id(item["id"], f"{what} id"), str(item.get("name") or "")[:limit])
        for item in _json_list(text, what)
        if "id" in item and item.get("name")
    ]
    return list(dict(pairs).items())


def _coded(text: str, what: str, code: str) -> list[tuple[str, str]]:
    """[{code, "name"}] as (code, name) pairs for two-letter codes, each code once."""
    pairs = [
        (str(item[code]).strip()[:2], str(item.get("name") or "")[:100])
        for item in _json_list(text, what)
        if len(str(item.get(code) or "").strip()) == 2
    ]
    return list(dict(pairs).items())


def _gender(value: Any) -> int:
    return value if isinstance(value, int) and 0 <= value <= 3 else 0


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
        "budget": _money(row.get("budget", "")),
        "revenue": _money(row.get("revenue", "")),
        "homepage": _clip((row.get("homepage") or "").strip(), 500),
        "popularity": max(0.0, _number(row.get("popularity", ""), float, 0.0)),
        "base_vote_average": min(max(votes, 0.0), 10.0),
        "base_vote_count": max(count, 0),
    }
    genres = [
        (_db_id(g["id"], "genre id"), str(g["name"])[:64])
        for g in _json_list(row.get("genres", ""), "genres")
        if "id" in g
    ]
    parsed = ParsedMovie(movie, genres, *_credits(credits))
    parsed.keywords = _named_ids(row.get("keywords", ""), "keywords", 100)
    parsed.companies = _named_ids(row.get("production_companies", ""), "companies", 200)
    parsed.countries = _coded(row.get("production_countries", ""), "countries", "iso_3166_1")
    parsed.languages = _coded(row.get("spoken_languages", ""), "languages", "iso_639_1")
    return parsed


def _credits(
    credits: Row | None,
) -> tuple[list[dict[str, Any]], list[tuple[int, str]], list[dict[str, Any]]]:
    """Cast (billing order), directors (in crew order, once each) and the whole crew."""
    if credits is None:
        return [], [], []
    cast = [
        {
            "person_id": _db_id(c["id"], "cast person id"),
            "name": str(c.get("name") or "")[:200],
            "gender": _gender(c.get("gender")),
            "character": _clip(str(c.get("character") or ""), 500),
            "order": int(c.get("order") or 0),
        }
        for c in _json_list(credits.get("cast", ""), "cast")
        if c.get("id") and c.get("name")
    ]
    crew: list[dict[str, Any]] = [
        {
            "person_id": _db_id(c["id"], "crew person id"),
            "name": str(c.get("name") or "")[:200],
            "gender": _gender(c.get("gender")),
            "department": str(c.get("department") or "")[:64],
            "job": str(c.get("job") or "")[:100],
        }
        for c in _json_list(credits.get("crew", ""), "crew")
        if c.get("id") and c.get("name") and c.get("job")
    ]
    unique_crew = list({(c["person_id"], c["department"], c["job"]): c for c in crew}.values())
    directors = [
        (int(c["person_id"]), str(c["name"])) for c in unique_crew if c["job"] == "Director"
    ]
    return cast, list(dict.fromkeys(directors)), unique_crew


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
) -> set[int]:
    """Insert the rows whose id the table lacks; returns those ids."""
    missing = set(rows) - await _existing_ids(session, model, set(rows))
    if missing:
        await session.execute(insert(model), [rows[i] for i in sorted(missing)])
    return missing


async def _known_genre_names(session: AsyncSession) -> set[str]:
    return {name.lower() for name in (await session.execute(select(col(Genre.name)))).scalars()}


async def load_batch(session: AsyncSession, batch: list[ParsedMovie], report: ImportReport) -> None:
    """Insert the batch's new movies with everything they carry, and fill in what movies already
    present lack (an older import kept less): one transaction."""
    existing = await _existing_ids(session, Movie, {p.movie["id"] for p in batch})
    fresh = [p for p in batch if p.movie["id"] not in existing]
    present = [p for p in batch if p.movie["id"] in existing]
    await _insert_referenced(session, batch, report)
    if fresh:
        await _insert_movies(session, fresh)
        await _insert_details(session, fresh, set(_DETAILS))
        report.imported += len(fresh)
    filled = await _fill_in(session, present)
    report.filled += len(filled)
    report.skipped_existing += len(present) - len(filled)
    changed = [p.movie["id"] for p in fresh] + filled
    credited = sorted(_people([p for p in batch if p.movie["id"] in set(changed)]))
    await add_entries(session, changed, credited)


async def _insert_referenced(
    session: AsyncSession, batch: list[ParsedMovie], report: ImportReport
) -> None:
    """Genres, keywords, companies and people the batch names that the database lacks; people
    already present get the gender they lacked."""
    genre_names = await _known_genre_names(session)
    genres = {
        gid: {"id": gid, "name": name}
        for p in batch
        for gid, name in p.genres
        if name.lower() not in genre_names
    }
    report.genres_created += len(await _insert_missing(session, Genre, genres))
    keywords = {kid: {"id": kid, "name": name} for p in batch for kid, name in p.keywords}
    await _insert_missing(session, Keyword, keywords)
    companies = {cid: {"id": cid, "name": name} for p in batch for cid, name in p.companies}
    await _insert_missing(session, Company, companies)
    people = _people(batch)
    created = await _insert_missing(session, Person, people)
    report.people_created += len(created)
    await _fill_genders(session, {pid: row for pid, row in people.items() if pid not in created})


def _people(batch: list[ParsedMovie]) -> dict[int, dict[str, Any]]:
    people: dict[int, dict[str, Any]] = {}
    for p in batch:
        for credit in [*p.cast, *p.crew]:
            known = people.setdefault(
                credit["person_id"],
                {"id": credit["person_id"], "name": credit["name"], "gender": 0},
            )
            known["gender"] = known["gender"] or credit["gender"]
        for pid, name in p.directors:
            people.setdefault(pid, {"id": pid, "name": name, "gender": 0})
    return people


async def _fill_genders(session: AsyncSession, people: dict[int, dict[str, Any]]) -> None:
    known = [{"pid": pid, "g": row["gender"]} for pid, row in people.items() if row["gender"]]
    if known:
        person: Any = sa_inspect(Person).local_table  # Core: an executemany, not the ORM's
        stmt = (
            update(person)
            .where(person.c.id == bindparam("pid"), person.c.gender == 0)
            .values(gender=bindparam("g"))
        )
        await session.execute(stmt, known)


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


def _keyword_rows(p: ParsedMovie) -> list[dict[str, Any]]:
    return [{"movie_id": p.movie["id"], "keyword_id": kid} for kid, _ in p.keywords]


def _company_rows(p: ParsedMovie) -> list[dict[str, Any]]:
    return [
        {"movie_id": p.movie["id"], "company_id": cid, "position": i}
        for i, (cid, _) in enumerate(p.companies)
    ]


def _country_rows(p: ParsedMovie) -> list[dict[str, Any]]:
    return [
        {"movie_id": p.movie["id"], "iso_3166_1": iso, "name": name, "position": i}
        for i, (iso, name) in enumerate(p.countries)
    ]


def _language_rows(p: ParsedMovie) -> list[dict[str, Any]]:
    return [
        {"movie_id": p.movie["id"], "iso_639_1": iso, "name": name, "position": i}
        for i, (iso, name) in enumerate(p.languages)
    ]


def _crew_rows(p: ParsedMovie) -> list[dict[str, Any]]:
    return [
        {
            "movie_id": p.movie["id"],
            "person_id": c["person_id"],
            "department": c["department"],
            "job": c["job"],
            "position": i,
        }
        for i, c in enumerate(p.crew)
    ]


# The parts of a movie's record kept in tables of their own: (table, its rows for one movie).
_DETAILS: dict[Any, Callable[[ParsedMovie], list[dict[str, Any]]]] = {
    MovieKeyword: _keyword_rows,
    MovieCompany: _company_rows,
    MovieCountry: _country_rows,
    MovieLanguage: _language_rows,
    CrewCredit: _crew_rows,
}


async def _insert_details(
    session: AsyncSession, movies: list[ParsedMovie], tables: set[Any]
) -> None:
    for table in tables:
        rows = [row for p in movies for row in _DETAILS[table](p)]
        await _insert_rows(session, table, rows)


async def _fill_in(session: AsyncSession, present: list[ParsedMovie]) -> list[int]:
    """For movies already in the database, what an older import did not keep: money and
    homepage where they are null, and each detail table where the movie has no rows (admins'
    edits stay). Returns the ids of the movies that changed."""
    changed: set[int] = set()
    for table in _DETAILS:
        lacking = await _lacking(session, table, [p for p in present if _DETAILS[table](p)])
        await _insert_details(session, lacking, {table})
        changed.update(p.movie["id"] for p in lacking)
    for p in present:
        if await _fill_fields(session, p):
            changed.add(p.movie["id"])
    return sorted(changed)


async def _lacking(
    session: AsyncSession, table: Any, movies: list[ParsedMovie]
) -> list[ParsedMovie]:
    ids = [p.movie["id"] for p in movies]
    if not ids:
        return []
    have = set(
        (await session.execute(select(table.movie_id).where(table.movie_id.in_(ids)))).scalars()
    )
    return [p for p in movies if p.movie["id"] not in have]


_FILLED_FIELDS = ("budget", "revenue", "homepage")


async def _fill_fields(session: AsyncSession, p: ParsedMovie) -> bool:
    filled = False
    for name in _FILLED_FIELDS:
        if p.movie[name] is None:
            continue
        column = getattr(Movie, name)
        stmt = update(Movie).where(col(Movie.id) == p.movie["id"], column.is_(None))
        result = await session.execute(stmt.values({name: p.movie[name]}))
        filled = filled or bool(result.rowcount)  # type: ignore[attr-defined]
    return filled


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
    """Import the files. Movies already present (by id) are kept as they are, but what an older
    import did not keep is filled in; a second run over the same files changes nothing."""
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
