"""Full reindex (worker.sync.rebuild_index) against Meilisearch's own ingestion of the documents.

For TMDB 5000 and the large generated catalog (imported by the import benchmark, or here when
missing): the rebuild's wall time and peak RSS, each in its own process (memory must not grow with
the catalog); then, in another process, every document built in memory first and only
add_documents (batches of 1000, all sent, then every task awaited) timed into a fresh index with
the code's settings. The Meilisearch task time spent inside the rebuild is read back from its
task list, which splits the rebuild into engine time and everything else.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from meilisearch_python_sdk import AsyncClient
from sqlalchemy import func, select

from api.db import make_engine, make_sessionmaker
from api.outbox import SearchOutbox
from api.search import queries
from api.types import utcnow
from bench import import_bench, stack
from bench.report import PeakRss, isolated, mib, sized_result, table, write_result
from indexer import ensure_settings, make_client, to_document
from indexer.settings import PEOPLE_SETTINGS, PRIMARY_KEY, index_exists
from indexer.tasks import wait_for
from worker import sync
from worker.resources import connect_redis, open_resources

NAME = "reindex"
INGEST_BATCH = 1000
READ_BACK_ABOVE = 20_000
PROGRESS_EVERY = 15.0


def _progress(label: str, total: int) -> Any:
    state = {"started": time.monotonic(), "last": 0.0}

    def report(done: int) -> None:
        now = time.monotonic()
        if now - state["last"] >= PROGRESS_EVERY:
            state["last"] = now
            print(
                f"  {label}: {done:,}/{total:,} documents, {now - state['started']:.0f} s",
                flush=True,
            )

    return report


async def task_seconds(
    client: AsyncClient, since: datetime, index_prefix: str, builds_only: bool = False
) -> tuple[float, int]:
    """Engine time (started → finished) of document additions into indexes named index_prefix*
    (with builds_only, only into the build indexes of a rebuild: movies' and people's)."""
    page = await client.get_tasks(
        types="documentAdditionOrUpdate", after_enqueued_at=since, limit=1000
    )
    mine = [
        t
        for t in page.results
        if (t.index_uid or "").startswith(index_prefix)
        and (not builds_only or "__build_" in (t.index_uid or ""))
    ]
    # Tasks Meilisearch batched together share their batch's start and finish: count batches once.
    batches = {
        (t.batch_uid, t.started_at, t.finished_at) for t in mine if t.started_at and t.finished_at
    }
    seconds = sum((finished - started).total_seconds() for _, started, finished in batches)
    return seconds, len(mine)


async def _outwait_replay(res: Any, label: str) -> None:
    """Right after an import, the rebuild would also replay the import's last minute of outbox
    entries: wait that minute out, so the figure is the rebuild alone."""
    async with res.sessionmaker() as session:
        newest = (await session.execute(select(func.max(SearchOutbox.created_at)))).scalar()
    if newest is None:
        return
    wait = (newest + sync.REPLAY_MARGIN - utcnow()).total_seconds() + 1
    if 0 < wait <= sync.REPLAY_MARGIN.total_seconds() + 1:
        print(
            f"  reindex {label}: waiting {wait:.0f} s for the import to leave the replay window",
            flush=True,
        )
        await asyncio.sleep(wait)


async def _reindex(database: str, meili: stack.Meili, index: str, label: str) -> dict[str, Any]:
    settings = stack.settings(database, meili, index)
    res = await open_resources(settings, redis=await connect_redis(settings))
    try:
        await _outwait_replay(res, label)
        async with res.sessionmaker() as session:
            total = await queries.count_movies(session)
        since = datetime.now(UTC).replace(tzinfo=None)  # the SDK appends "Z" itself
        started = time.monotonic()
        rebuilt = await sync.rebuild_index(res, _progress(f"reindex {label}", total))
        seconds = time.monotonic() - started
        engine_seconds, tasks = await task_seconds(res.meili, since, index, builds_only=True)
    finally:
        assert res.redis is not None
        await res.redis.aclose()
        await res.close()
    return {
        "seconds": seconds,
        "count": rebuilt.indexed,
        "people": rebuilt.people,
        "replayed": rebuilt.replayed,
        "engine_seconds": engine_seconds,
        "tasks": tasks,
    }


def reindex_child(database: str, meili: stack.Meili, index: str, label: str) -> dict[str, Any]:
    with PeakRss() as rss:
        result = asyncio.run(_reindex(database, meili, index, label))
    return {**result, "rss_before_mib": mib(rss.start), "rss_peak_sampled_mib": mib(rss.peak)}


async def _build_documents(database: str) -> tuple[list[list[dict[str, Any]]], float]:
    engine = make_engine(stack.database_url(database))
    try:
        started = time.monotonic()
        batches = [
            [to_document(s) for s in batch]
            async for batch in queries.iter_source_batches(make_sessionmaker(engine), INGEST_BATCH)
        ]
        return batches, time.monotonic() - started
    finally:
        await engine.dispose()


async def _fresh_index(client: AsyncClient, uid: str, settings: dict[str, Any] | None) -> None:
    if await index_exists(client, uid):
        await wait_for(client, await client.index(uid).delete(), 120)
    await ensure_settings(client, uid, settings)


async def _read_back(client: AsyncClient, uid: str) -> tuple[list[list[dict[str, Any]]], float]:
    """The documents the rebuild just wrote, fetched from its index."""
    started, batches = time.monotonic(), list[list[dict[str, Any]]]()
    while True:
        page = await client.index(uid).get_documents(
            offset=len(batches) * INGEST_BATCH, limit=INGEST_BATCH
        )
        if not page.results:
            return batches, time.monotonic() - started
        batches.append(page.results)


async def _add_all(
    client: AsyncClient, uid: str, batches: list[list[dict[str, Any]]], settings: Any
) -> float:
    """Seconds to add every batch (all sent, then every task awaited) into a fresh index."""
    await _fresh_index(client, uid, settings)
    started = time.monotonic()
    tasks = [await client.index(uid).add_documents(b, primary_key=PRIMARY_KEY) for b in batches]
    for task in tasks:
        await wait_for(client, task, 1800)
    seconds = time.monotonic() - started
    await wait_for(client, await client.index(uid).delete(), 120)
    return seconds


async def _ingest(meili: stack.Meili, plan: Plan, label: str) -> dict[str, Any]:
    """Movies as the plan says, then the people documents the rebuild wrote (read back)."""
    database, rebuilt, rebuilt_people, index = plan
    client = make_client(meili.url, meili.key, 60.0)
    try:
        if rebuilt:
            batches, build_seconds = await _read_back(client, rebuilt)
        else:
            batches, build_seconds = await _build_documents(database)
        people, _ = await _read_back(client, rebuilt_people)
        how = "read back from the rebuilt index" if rebuilt else "built"
        count = sum(map(len, batches))
        print(
            f"  ingestion {label}: {count:,} documents {how} in {build_seconds:.0f} s", flush=True
        )
        since = datetime.now(UTC).replace(tzinfo=None)  # the SDK appends "Z" itself
        seconds = await _add_all(client, index, batches, None)
        seconds += await _add_all(client, f"{index}_people", people, PEOPLE_SETTINGS)
        engine_seconds, _ = await task_seconds(client, since, index)
    finally:
        await client.aclose()
    return {"build_seconds": build_seconds, "seconds": seconds, "engine_seconds": engine_seconds}


# (database, rebuilt movie index to read the documents back from or "", rebuilt people index,
# target index)
Plan = tuple[str, str, str, str]


def ingest_child(meili: stack.Meili, plan: Plan, label: str) -> dict[str, Any]:
    return asyncio.run(_ingest(meili, plan, label))


def _ready(database: str, movies: int) -> bool:
    """Holds the whole catalog, and in a schema the code can still read (after migrating)."""
    if asyncio.run(stack.table_counts(database)).get("movie") != movies:
        return False
    asyncio.run(stack.migrate(database))
    return asyncio.run(stack.schema_current(database))


def catalogs(large: int) -> tuple[list[tuple[str, str]], list[str]]:
    """(label, database) of TMDB 5000 and the large catalog, importing whichever is missing."""
    notes: list[str] = []
    if not _ready(import_bench.TMDB_DB, 4803):
        import_bench.run_import(import_bench.TMDB_DB, stack.TMDB_FILES, "TMDB 5000", None)
    found = [n for n in (large, import_bench.FALLBACK) if _ready(stack.generated_db(n), n)]
    if found:
        size = found[0]
        if size != large:
            notes.append(f"Used the {size:,}-movie catalog the import benchmark fell back to.")
    else:
        result, more = import_bench.ensure_large(
            large, import_bench.LARGE_LIMIT if large == import_bench.LARGE else None
        )
        notes += more
        if result is None:
            return [("TMDB 5000", import_bench.TMDB_DB)], notes
        size = int(result["movie"])
    targets = [
        ("TMDB 5000", import_bench.TMDB_DB),
        (f"generated {size // 1000}k", stack.generated_db(size)),
    ]
    return targets, notes


HEADERS = [
    "catalog", "movies", "people", "reindex s", "docs/s", "RSS before (MiB)", "peak RSS (MiB)",
    "replayed", "engine s in reindex", "read + build docs s", "Meilisearch ingestion s",
    "reindex / ingestion",
]  # fmt: skip


def measure(label: str, database: str, meili: stack.Meili) -> list[Any]:
    slug = database.removeprefix("marquee_bench_")
    print(f"  reindexing {label} ({database})", flush=True)
    r = isolated(reindex_child, database, meili, f"bench_{slug}", label)
    print(f"  Meilisearch's own ingestion of {label}", flush=True)
    # Re-reading a large catalog through the ORM costs as long as the rebuild's own read (it is
    # most of it): large catalogs take the very documents the rebuild wrote, from its index.
    rebuilt = f"bench_{slug}" if r["count"] > READ_BACK_ABOVE else ""
    plan = (database, rebuilt, f"bench_{slug}_people", f"bench_ingest_{slug}")
    i = isolated(ingest_child, meili, plan, label)
    seconds = r["seconds"]
    built = f"{i['build_seconds']:.1f}" if not rebuilt else "(read back)"
    return [
        label, r["count"], r["people"], seconds, (r["count"] + r["people"]) / seconds,
        r["rss_before_mib"], r["ru_maxrss_mib"],
        r["replayed"], r["engine_seconds"], built, i["seconds"], f"{seconds / i['seconds']:.2f}",
    ]  # fmt: skip


def run(large: int = import_bench.LARGE) -> str:
    load = os.getloadavg()[0]
    asyncio.run(stack.flush_redis())
    targets, notes = catalogs(large)
    with stack.meilisearch() as meili:
        rows = [measure(label, database, meili) for label, database in targets]
    body = table(HEADERS, rows)
    notes += [
        f"Load average (1 min) when the benchmark started: {load:.2f}.",
        "reindex s: worker.sync.rebuild_index end to end (stale builds dropped, settings applied "
        "to the build index, batches of 1000 read and streamed as JSON arrays in requests of 1 MiB "
        "doubling up to 64 MiB, swap, old index deleted, replay of the outbox entries of the last "
        "minute: `replayed`; the benchmark lets a fresh import's entries leave that window first). "
        "It rebuilds both indexes, movies then people; docs/s counts both.",
        "peak RSS: ru_maxrss of the process that ran only the rebuild; RSS before: after its "
        "imports.",
        "engine s in reindex: Meilisearch's own processing time (task started → finished) of the "
        "rebuild's document batches (both indexes); the rest of reindex s is the database read, "
        "the document mapping and the round trips between batches, during which Meilisearch idles.",
        "read + build docs s: iter_source_batches + to_document for every movie (the same read "
        "the rebuild does), not part of the ingestion column. For catalogs above "
        f"{READ_BACK_ABOVE:,} movies the ingestion instead takes the documents the rebuild wrote, "
        "read back from its index (re-reading them through the ORM would double the run).",
        "Meilisearch ingestion s: add_documents of the pre-built documents in batches of "
        f"{INGEST_BATCH}, all sent at once, then every task awaited, into a fresh index with "
        "ensure_settings applied first; movies, then the people documents the rebuild wrote "
        "(read back from its people index).",
    ]
    body += "\n\n" + "\n".join(f"- {n}" for n in notes)
    name, command = sized_result(NAME, "reindex_bench", large, import_bench.LARGE)
    write_result(name, "Reindex benchmark", body, asyncio.run(stack.machine_rows()), command)
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reindex_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--movies", type=int, default=import_bench.LARGE, help="size of the generated catalog"
    )
    args = parser.parse_args(argv)
    print(run(args.movies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
