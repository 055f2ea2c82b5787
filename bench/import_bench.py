"""Import throughput: `marquee import tmdb` (importer.tmdb.import_tmdb) into a fresh MariaDB.

Times the import of TMDB 5000 and of a generated 100k catalog, each in its own process (so its
peak RSS is its own) into a freshly created and migrated database. The databases are kept for the
reindex benchmark. If the large import runs past LARGE_LIMIT it is stopped and FALLBACK is used.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

from api.db import make_engine, make_sessionmaker
from bench import stack
from bench.report import ChildTimeout, PeakRss, isolated, mib, sized_result, table, write_result
from importer.tmdb import import_tmdb

NAME = "import"
TMDB_DB = "marquee_bench_tmdb"
LARGE = 100_000
FALLBACK = 50_000
LARGE_LIMIT = 8 * 60.0
TARGET_SECONDS = 60.0
PROGRESS_EVERY = 15.0


class _Progress:
    def __init__(self, label: str) -> None:
        self.label, self.started, self.last = label, time.monotonic(), 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            print(
                f"  import {self.label}: {100 * done / max(total, 1):.0f}% of the file, "
                f"{now - self.started:.0f} s",
                flush=True,
            )


async def _import(url: str, files: list[Path], label: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        started = time.monotonic()
        movies, credits, posters = files
        report = await import_tmdb(
            make_sessionmaker(engine), movies, credits, posters, _Progress(label)
        )
        seconds = time.monotonic() - started
    finally:
        await engine.dispose()
    return {"seconds": seconds, "imported": report.imported, "invalid": report.skipped_invalid}


def import_child(url: str, files: list[Path], label: str, profile: bool = False) -> dict[str, Any]:
    """In a fresh process: import the files; the figures plus the RSS before and at peak."""
    profiler = cProfile.Profile() if profile else None
    with PeakRss() as rss:
        if profiler:
            profiler.enable()
        result = asyncio.run(_import(url, files, label))
        if profiler:
            profiler.disable()
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue(), flush=True)
    return {**result, "rss_before_mib": mib(rss.start), "rss_peak_mib": mib(rss.peak)}


def run_import(
    database: str, files: list[Path], label: str, timeout: float | None, profile: bool = False
) -> dict[str, Any]:
    url = asyncio.run(stack.reset_database(database))
    print(f"  importing {label} into {database}", flush=True)
    result = isolated(import_child, url, files, label, profile, timeout=timeout)
    return {
        **result,
        **asyncio.run(stack.table_counts(database, RECORD_TABLES)),
        "label": label,
        "database": database,
    }


def ensure_large(
    movies: int = LARGE, timeout: float | None = LARGE_LIMIT, profile: bool = False
) -> tuple[dict[str, Any] | None, list[str]]:
    """Import the large generated catalog, falling back to FALLBACK movies past `timeout`."""
    notes: list[str] = []
    started = time.monotonic()
    files = stack.generated_catalog(movies)
    notes.append(
        f"Generating (or finding cached) the {movies:,}-movie catalog took "
        f"{time.monotonic() - started:.0f} s (not counted)."
    )
    database = stack.generated_db(movies)
    try:
        return run_import(database, files, f"generated {movies // 1000}k", timeout, profile), notes
    except ChildTimeout:
        assert timeout is not None
        counts = asyncio.run(stack.table_counts(database))
        notes.append(
            f"**The {movies:,}-movie import did not finish within {timeout / 60:.0f} min** "
            f"({counts.get('movie', 0):,} movies imported by then); fell back to {FALLBACK:,}."
        )
        asyncio.run(stack.drop_database(database))
    if movies == FALLBACK:
        return None, notes
    result, more = ensure_large(FALLBACK, None, profile)
    return result, notes + more


# What the whole TMDB record fills: counted after each import.
RECORD_TABLES = (
    "movie", "person", "cast_credit", "crew_credit", "movie_keyword", "movie_company",
)  # fmt: skip


def _row(r: dict[str, Any]) -> list[Any]:
    target = ""
    if r["database"] == TMDB_DB:
        target = f"< {TARGET_SECONDS:.0f} s: {'met' if r['seconds'] < TARGET_SECONDS else 'MISSED'}"
    seconds = r["seconds"]
    return [
        r["label"], r["movie"], r["person"], r["cast_credit"], r["crew_credit"],
        r["movie_keyword"], r["movie_company"], seconds, r["movie"] / seconds,
        (r["cast_credit"] + r["crew_credit"]) / seconds, r["rss_before_mib"], r["ru_maxrss_mib"],
        target,
    ]  # fmt: skip


HEADERS = [
    "catalog", "movies", "people", "cast credits", "crew credits", "keywords", "companies",
    "seconds", "movies/s", "credits/s",
    "RSS before (MiB)", "peak RSS (MiB)", "target",
]  # fmt: skip


def run(large: int = LARGE, profile: bool = False) -> str:
    load = os.getloadavg()[0]
    results = [run_import(TMDB_DB, stack.TMDB_FILES, "TMDB 5000", 600, profile)]
    large_result, notes = ensure_large(large, LARGE_LIMIT if large == LARGE else None, profile)
    if large_result:
        results.append(large_result)
    body = table(HEADERS, [_row(r) for r in results])
    notes += [
        f"Load average (1 min) when the benchmark started: {load:.2f}.",
        "Each import runs in its own process into a freshly dropped, created and migrated "
        "database; seconds are import_tmdb alone (the schema migration is not counted).",
        "keywords and companies: the movies' keyword and company links; credits/s counts cast "
        "and crew credits.",
        "RSS before: the process after its imports, before reading any row; peak RSS: that "
        "process's ru_maxrss.",
    ]
    body += "\n\n" + "\n".join(f"- {n}" for n in notes)
    name, command = sized_result(NAME, "import_bench", large, LARGE)
    write_result(name, "Import benchmark", body, asyncio.run(stack.machine_rows()), command)
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.import_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--movies", type=int, default=LARGE, help="size of the generated catalog")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each import")
    args = parser.parse_args(argv)
    print(run(args.movies, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
