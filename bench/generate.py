"""Synthetic catalogs in the TMDB 5000 CSV format, drawn from the real files' distributions.

`python -m bench.generate --movies 100000 --out DIR` writes DIR/movies.csv.gz, credits.csv.gz and
posters.csv.gz, one row per movie in each and in the same order (so the importer pairs them in
constant memory). Every field is drawn from TMDB 5000: titles recombined from real title words,
overviews from real sentences, genre sets, languages, release dates, popularity and votes, cast
from the real people (with their person ids, weighted by how often they appear), directors and
crew. Movie ids start at ID_BASE, far beyond TMDB's. Deterministic for a seed; the pools are the
size of TMDB 5000 and rows are written as they are drawn, so memory does not grow with --movies.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "movies"
ID_BASE = 100_000_000
# Bump when a change alters the output: cached catalogs are keyed by it.
VERSION = 1
FILES = ("movies.csv.gz", "credits.csv.gz", "posters.csv.gz")
MOVIE_COLUMNS = [
    "budget", "genres", "homepage", "id", "keywords", "original_language", "original_title",
    "overview", "popularity", "production_companies", "production_countries", "release_date",
    "revenue", "runtime", "spoken_languages", "status", "tagline", "title", "vote_average",
    "vote_count",
]  # fmt: skip
POSTER_COLUMNS = [
    "movie_id",
    "title",
    "poster_path",
    "poster_url",
    "source_repo",
    "lookup",
    "agreeing_sources",
]
POSTER_BASE = "https://image.tmdb.org/t/p/w500"
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
csv.field_size_limit(sys.maxsize)


class Weighted:
    """Draws values in proportion to how often they were seen."""

    def __init__(self, counts: Counter[Any]) -> None:
        self.values = list(counts)
        self.cum = list(itertools.accumulate(counts[v] for v in self.values))

    def draw(self, rng: random.Random, k: int = 1) -> list[Any]:
        return rng.choices(self.values, cum_weights=self.cum, k=k) if k else []


@dataclass
class Pools:
    """Everything drawn from; built once from TMDB 5000 (its size, not the output's)."""

    donors: list[dict[str, str]]  # the real movie rows, minus what is recombined
    first_words: Weighted
    other_words: Weighted
    title_lengths: list[int]
    sentences: list[str]
    sentence_counts: list[int]
    people: Weighted  # (person id, name as JSON, gender), weighted by credits
    characters: list[str]  # as JSON strings
    cast_sizes: list[int]
    directors: Weighted  # (person id, name as JSON, gender)
    director_counts: list[int]
    crew: list[str]  # non-director crew items as JSON, without the opening `{"credit_id": …`
    crew_sizes: list[int]
    poster_share: float


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


Person = tuple[int, str, int]  # id, name as JSON, gender


def _person(item: dict[str, Any]) -> Person:
    return (
        int(item["id"]),
        json.dumps(item["name"], ensure_ascii=False),
        int(item.get("gender") or 0),
    )


@dataclass
class _MoviePools:
    donors: list[dict[str, str]] = field(default_factory=list)
    first: Counter[str] = field(default_factory=Counter)
    other: Counter[str] = field(default_factory=Counter)
    lengths: list[int] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    sentence_counts: list[int] = field(default_factory=list)

    def add(self, row: dict[str, str]) -> None:
        words = row["title"].split()
        self.lengths.append(max(len(words), 1))
        self.first.update(words[:1])
        self.other.update(words[1:])
        parts = [s for s in _SENTENCE_END.split(row["overview"].strip()) if s]
        self.sentences.extend(parts)
        self.sentence_counts.append(len(parts))
        recombined = ("id", "title", "original_title", "overview")
        self.donors.append({k: v for k, v in row.items() if k not in recombined})


@dataclass
class _CreditPools:
    people: Counter[Person] = field(default_factory=Counter)
    directors: Counter[Person] = field(default_factory=Counter)
    characters: list[str] = field(default_factory=list)
    cast_sizes: list[int] = field(default_factory=list)
    crew: list[str] = field(default_factory=list)
    crew_sizes: list[int] = field(default_factory=list)
    director_counts: list[int] = field(default_factory=list)

    def add(self, row: dict[str, str]) -> None:
        cast, crew = json.loads(row["cast"]), json.loads(row["crew"])
        self.cast_sizes.append(len(cast))
        for c in cast:
            self.people[_person(c)] += 1
            self.characters.append(json.dumps(c.get("character") or "", ensure_ascii=False))
        found = [c for c in crew if c.get("job") == "Director"]
        self.director_counts.append(len(found))
        self.crew_sizes.append(len(crew) - len(found))
        self.directors.update(_person(c) for c in found)
        for c in crew:
            if c.get("job") != "Director":
                rest = {k: c[k] for k in ("department", "gender", "id", "job", "name") if k in c}
                self.crew.append(json.dumps(rest, ensure_ascii=False)[1:])


def load_pools(source: Path = DEFAULT_SOURCE) -> Pools:
    m, c = _MoviePools(), _CreditPools()
    for row in _rows(source / "tmdb_5000_movies.csv.gz"):
        m.add(row)
    for row in _rows(source / "tmdb_5000_credits.csv.gz"):
        c.add(row)
    posters = list(_rows(source / "tmdb_5000_posters.csv.gz"))
    share = sum(1 for p in posters if p.get("poster_path")) / max(len(posters), 1)
    return Pools(
        m.donors, Weighted(m.first), Weighted(m.other), m.lengths, m.sentences, m.sentence_counts,
        Weighted(c.people), c.characters, c.cast_sizes, Weighted(c.directors), c.director_counts,
        c.crew, c.crew_sizes, share,
    )  # fmt: skip


def _clamp(vote: float) -> float:
    return min(max(vote, 0.0), 10.0)


class Generator:
    """Draws one movie at a time: its movies, credits and posters rows."""

    def __init__(self, pools: Pools, seed: int) -> None:
        self.pools = pools
        self.rng = random.Random(seed)
        self.credit_seq = 0

    def _donor(self) -> dict[str, str]:
        return self.rng.choice(self.pools.donors)

    def _credit_id(self) -> str:
        self.credit_seq += 1
        return f"b{self.credit_seq:023x}"

    def title(self) -> str:
        p, rng = self.pools, self.rng
        length = rng.choice(p.title_lengths)
        return " ".join(p.first_words.draw(rng) + p.other_words.draw(rng, length - 1))

    def overview(self) -> str:
        p = self.pools
        return " ".join(
            self.rng.choice(p.sentences) for _ in range(self.rng.choice(p.sentence_counts))
        )

    def release_date(self) -> str:
        text = self._donor()["release_date"]
        if not text:
            return ""
        return (date.fromisoformat(text) + timedelta(days=self.rng.randint(-182, 182))).isoformat()

    def movie_row(self, movie_id: int, title: str) -> dict[str, Any]:
        rng = self.rng
        row: dict[str, Any] = dict(self._donor())  # budget, revenue, runtime, status, homepage...
        votes = self._donor()  # popularity and votes stay together: they are correlated
        genres, language, tagline = self._donor(), self._donor(), self._donor()
        row.update(
            id=movie_id,
            title=title,
            original_title=title,
            overview=self.overview(),
            genres=genres["genres"],
            keywords=self._donor()["keywords"],
            original_language=language["original_language"],
            spoken_languages=language["spoken_languages"],
            tagline=tagline["tagline"],
            release_date=self.release_date(),
            popularity=f"{float(votes['popularity']) * rng.uniform(0.9, 1.1):.6f}",
            vote_average=f"{_clamp(float(votes['vote_average']) + rng.uniform(-0.3, 0.3)):.1f}",
            vote_count=str(int(int(votes["vote_count"]) * rng.uniform(0.9, 1.1))),
        )
        return row

    def cast_json(self) -> str:
        p, rng = self.pools, self.rng
        people = dict.fromkeys(p.people.draw(rng, rng.choice(p.cast_sizes)))
        characters = rng.choices(p.characters, k=len(people))
        items = [
            f'{{"cast_id": {order + 1}, "character": {characters[order]}, '
            f'"credit_id": "{self._credit_id()}", "gender": {gender}, "id": {pid}, "name": {name}, '
            f'"order": {order}}}'
            for order, (pid, name, gender) in enumerate(people)
        ]
        return "[" + ", ".join(items) + "]"

    def crew_json(self) -> str:
        p, rng = self.pools, self.rng
        directors = dict.fromkeys(p.directors.draw(rng, rng.choice(p.director_counts)))
        items = [
            f'{{"credit_id": "{self._credit_id()}", "department": "Directing", "gender": {gender}, '
            f'"id": {pid}, "job": "Director", "name": {name}}}'
            for pid, name, gender in directors
        ]
        items += [
            f'{{"credit_id": "{self._credit_id()}", {rest}'
            for rest in rng.choices(p.crew, k=rng.choice(p.crew_sizes))
        ]
        return "[" + ", ".join(items) + "]"

    def poster_row(self, movie_id: int, title: str) -> list[Any]:
        if self.rng.random() >= self.pools.poster_share:
            return [movie_id, title, "", "", "", "", 0]
        path = "/" + "".join(self.rng.choices(_ALNUM, k=27)) + ".jpg"
        return [movie_id, title, path, POSTER_BASE + path, "bench.generate", "synthetic", 0]

    def rows(self, count: int) -> Iterator[tuple[dict[str, Any], list[Any], list[Any]]]:
        for n in range(count):
            movie_id, title = ID_BASE + n, self.title()
            movie = self.movie_row(movie_id, title)
            credits = [movie_id, title, self.cast_json(), self.crew_json()]
            yield movie, credits, self.poster_row(movie_id, title)


def _open(path: Path) -> IO[str]:
    # Level 1: these files are read once; the default level 9 would dominate generation time.
    return gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=1)


def generate(
    count: int,
    out: Path,
    seed: int = 1,
    source: Path = DEFAULT_SOURCE,
    progress_every: int = 10_000,
) -> list[Path]:
    """Write the three files for `count` movies into out; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in FILES]
    started = time.monotonic()
    generator = Generator(load_pools(source), seed)
    with _open(paths[0]) as m, _open(paths[1]) as c, _open(paths[2]) as p:
        movies = csv.DictWriter(m, MOVIE_COLUMNS)
        credits, posters = csv.writer(c), csv.writer(p)
        movies.writeheader()
        credits.writerow(["movie_id", "title", "cast", "crew"])
        posters.writerow(POSTER_COLUMNS)
        for n, (movie, credit, poster) in enumerate(generator.rows(count), start=1):
            movies.writerow(movie)
            credits.writerow(credit)
            posters.writerow(poster)
            if progress_every and n % progress_every == 0:
                print(
                    f"  generated {n:,}/{count:,} movies ({time.monotonic() - started:.0f} s)",
                    flush=True,
                )
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--movies", type=int, default=100_000, help="how many movies (default 100000)"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="directory for the three .csv.gz files"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the TMDB 5000 files")
    args = parser.parse_args(argv)
    started = time.monotonic()
    paths = generate(args.movies, args.out, args.seed, args.source)
    sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in paths)
    print(f"wrote {args.movies:,} movies in {time.monotonic() - started:.1f} s: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
