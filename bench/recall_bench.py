"""Search recall on misspelled, original-language and accent-less titles, per typo setting.

    python -m bench.recall_bench [--keep-database]

TMDB 5000 is imported once into `marquee_bench_recall` (reused when a kept run left it whole;
dropped at the end unless `--keep-database`), its documents built by `iter_source_batches` +
`to_document` and loaded into one index of a throwaway Meilisearch (or MEILI_URL), whose
`typoTolerance` is switched from candidate to candidate (the rest is the project's SETTINGS).
Query sets are drawn from the catalog itself with a fixed seed, each query naming the movie it
is meant to find; every query is the API's own search request (`indexer.search_movies` with
`api.search.documents.RETRIEVED`), and a hit is that movie among the first 5 results.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from meilisearch_python_sdk import AsyncClient

from api.db import make_engine, make_sessionmaker
from api.search import queries
from bench import import_bench, stack
from bench.report import table, write_result
from indexer import SETTINGS, ensure_settings, make_client, search_movies, to_document
from indexer.settings import PRIMARY_KEY, index_exists
from indexer.tasks import wait_for

NAME = "recall"
DATABASE = "marquee_bench_recall"
INDEX = "bench_recall"
SEED = 5000
PER_SET = 400  # queries per generated typo set
TOP = 5
CONCURRENCY = 8
LETTERS = "abcdefghijklmnopqrstuvwxyz"

# Candidate typoTolerance values, explicit so that switching back to the defaults is a change.
CANDIDATES: dict[str, dict[str, Any]] = {
    "defaults (1 typo from 5, 2 from 9)": {"oneTypo": 5, "twoTypos": 9},
    "2 typos from 8": {"oneTypo": 5, "twoTypos": 8},
    "2 typos from 7": {"oneTypo": 5, "twoTypos": 7},
    "1 typo from 4, 2 from 8": {"oneTypo": 4, "twoTypos": 8},
    "1 typo from 4, 2 from 7": {"oneTypo": 4, "twoTypos": 7},
    "1 typo from 4, 2 from 6": {"oneTypo": 4, "twoTypos": 6},
}

# (e) Misspellings people type for popular titles (the intended title exactly as TMDB has it).
REAL_WORLD = [
    ("Ineptien", "Inception"),
    ("Inseption", "Inception"),
    ("Intersteller", "Interstellar"),
    ("Interstelar", "Interstellar"),
    ("Godfater", "The Godfather"),
    ("Shawshank Redemtion", "The Shawshank Redemption"),
    ("Shawshenk Redemsion", "The Shawshank Redemption"),
    ("Jurrasic Park", "Jurassic Park"),
    ("Gladiater", "Gladiator"),
    ("Terminater 2", "Terminator 2: Judgment Day"),
    ("Forest Gump", "Forrest Gump"),
    ("Shindlers List", "Schindler's List"),
    ("Titanik", "Titanic"),
    ("Matirx", "The Matrix"),
    ("Avengres", "The Avengers"),
    ("Ratatuille", "Ratatouille"),
    ("Ratatoulie", "Ratatouille"),
    ("Spiderman", "Spider-Man"),
    ("Mad Max Fury Raod", "Mad Max: Fury Road"),
    ("Guardians of the Galaxi", "Guardians of the Galaxy"),
    ("Pulp Ficton", "Pulp Fiction"),
    ("Goodfelas", "GoodFellas"),
    ("Fight Clb", "Fight Club"),
    ("Inglorious Bastards", "Inglourious Basterds"),
    ("Shutter Iland", "Shutter Island"),
    ("Prometeus", "Prometheus"),
    ("The Deparded", "The Departed"),
    ("Bravehart", "Braveheart"),
    ("Casablanka", "Casablanca"),
    ("Apocalipse Now", "Apocalypse Now"),
    ("Amelie", "Amélie"),
    ("Gravitty", "Gravity"),
    ("Pirates of the Carribean", "Pirates of the Caribbean: The Curse of the Black Pearl"),
    ("Brokeback Mountian", "Brokeback Mountain"),
    ("Silense of the Lambs", "The Silence of the Lambs"),
    ("Transformes", "Transformers"),
    ("Finding Nemmo", "Finding Nemo"),
    ("Sherlok Holmes", "Sherlock Holmes"),
    ("Insideous", "Insidious"),
    ("Whiplesh", "Whiplash"),
    ("Deadpoll", "Deadpool"),
    ("Maleficient", "Maleficent"),
    ("Armagedon", "Armageddon"),
    ("Ghostbusers", "Ghostbusters"),
    ("Untouchebles", "The Untouchables"),
]


@dataclass(frozen=True)
class Query:
    q: str
    movie_id: int


# ---- the query sets ----------------------------------------------------------------------


def osa(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (what a typo is to Meilisearch)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def typo(word: str, rng: random.Random) -> str:
    """One random edit (substitute, insert, delete or transpose) after the first letter: a typo
    on the first letter is rare in practice and Meilisearch counts it as two."""
    i = rng.randrange(1, len(word))
    kind = rng.choice(("substitute", "insert", "delete", "transpose"))
    if kind == "substitute":
        return word[:i] + rng.choice(LETTERS.replace(word[i].lower(), "")) + word[i + 1 :]
    if kind == "insert":
        return word[:i] + rng.choice(LETTERS) + word[i:]
    if kind == "delete" or i == len(word) - 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def misspelled(word: str, typos: int, rng: random.Random) -> str | None:
    """word with exactly `typos` typos (by edit distance), None if none was found."""
    for _ in range(50):
        out = word
        for _ in range(typos):
            out = typo(out, rng)
        if osa(out.lower(), word.lower()) == typos:
            return out
    return None


def typo_set(
    docs: Sequence[dict[str, Any]], typos: int, min_len: int, rng: random.Random
) -> list[Query]:
    """Titles with `typos` typos in one of their words of min_len+ letters (chosen at random)."""
    out: list[Query] = []
    for doc in rng.sample(list(docs), len(docs)):
        words = doc["title"].split()
        eligible = [i for i, w in enumerate(words) if len(w) >= min_len and w.isalpha()]
        if not eligible:
            continue
        i = rng.choice(eligible)
        if (wrong := misspelled(words[i], typos, rng)) is None:
            continue
        out.append(Query(" ".join([*words[:i], wrong, *words[i + 1 :]]), doc["id"]))
        if len(out) == PER_SET:
            break
    return out


def original_titles(docs: Sequence[dict[str, Any]]) -> list[Query]:
    """Original titles of non-English movies, where they differ from the title."""
    return [
        Query(d["original_title"], d["id"])
        for d in docs
        if d.get("original_language") != "en"
        and d.get("original_title")
        and d["original_title"].casefold() != d["title"].casefold()
    ]


def unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def accentless(docs: Sequence[dict[str, Any]]) -> list[Query]:
    """Titles and original titles (Latin script) with accents, typed without them."""
    out: list[Query] = []
    for d in docs:
        for name in {d["title"], d.get("original_title") or ""}:
            plain = unaccented(name)
            if plain != name and plain.isascii():
                out.append(Query(plain, d["id"]))
    return out


def real_world(by_title: dict[str, int]) -> list[Query]:
    missing = sorted({title for _, title in REAL_WORLD} - by_title.keys())
    if missing:
        raise RuntimeError(f"not a unique title in the catalog: {missing}")
    return [Query(q, by_title[title]) for q, title in REAL_WORLD]


def query_sets(docs: Sequence[dict[str, Any]]) -> dict[str, list[Query]]:
    """Every set, drawn from the movies whose title is theirs alone (else "the intended movie"
    is a coin toss), in a fixed order with a fixed seed."""
    counts = Counter(d["title"].casefold() for d in docs)
    unique = sorted((d for d in docs if counts[d["title"].casefold()] == 1), key=lambda d: d["id"])
    by_title = {d["title"]: d["id"] for d in unique}
    rng = random.Random(SEED)
    return {
        "(a) one typo, word of 5+ letters": typo_set(unique, 1, 5, rng),
        "(b) two typos, word of 8+ letters": typo_set(unique, 2, 8, rng),
        "(c) original title, non-English": original_titles(unique),
        "(d) accent-less title": accentless(unique),
        "(e) real-world misspellings": real_world(by_title),
        "exact title (precision)": [Query(d["title"], d["id"]) for d in unique],
    }


# ---- the index and the searches ----------------------------------------------------------


def _ready() -> bool:
    """A kept database holding the whole catalog, in a schema the code can read."""
    if asyncio.run(stack.table_counts(DATABASE)).get("movie", 0) < 4800:
        return False
    asyncio.run(stack.migrate(DATABASE))
    return asyncio.run(stack.schema_current(DATABASE))


async def documents() -> list[dict[str, Any]]:
    engine = make_engine(stack.database_url(DATABASE))
    try:
        sessions = make_sessionmaker(engine)
        return [
            to_document(s)
            async for batch in queries.iter_source_batches(sessions, 1000)
            for s in batch
        ]
    finally:
        await engine.dispose()


def settings_with(sizes: dict[str, int]) -> dict[str, Any]:
    return {**SETTINGS, "typoTolerance": {"enabled": True, "minWordSizeForTypos": sizes}}


async def load(client: AsyncClient, docs: list[dict[str, Any]]) -> None:
    if await index_exists(client, INDEX):
        await wait_for(client, await client.index(INDEX).delete(), 120)
    await ensure_settings(client, INDEX)
    for start in range(0, len(docs), 1000):
        task = await client.index(INDEX).add_documents(docs[start : start + 1000], PRIMARY_KEY)
        await wait_for(client, task, 600)


async def ranks(client: AsyncClient, qs: Sequence[Query]) -> list[tuple[int | None, int]]:
    """For each query: its movie's 1-based rank in the first TOP results (None: not there),
    and how many movies matched."""
    from api.search.documents import RETRIEVED

    gate = asyncio.Semaphore(CONCURRENCY)

    async def rank(query: Query) -> tuple[int | None, int]:
        async with gate:
            page = await search_movies(client, INDEX, query.q, None, None, 1, TOP, RETRIEVED)
        ids = [hit["id"] for hit in page.hits]
        return (ids.index(query.movie_id) + 1 if query.movie_id in ids else None), page.total

    return list(await asyncio.gather(*(rank(q) for q in qs)))


@dataclass
class Outcome:
    """Per query set: each query's rank (None: not in the top) and number of matches."""

    ranks: dict[str, list[int | None]]
    totals: dict[str, list[int]]


async def measure(
    meili: stack.Meili, sets: dict[str, list[Query]], docs: list[dict[str, Any]]
) -> dict[str, Outcome]:
    """Each candidate's ranks for every query set, on one index whose settings change."""
    client = make_client(meili.url, meili.key, 60.0)
    try:
        await load(client, docs)
        outcomes = {}
        for label, sizes in CANDIDATES.items():
            started = time.monotonic()
            await ensure_settings(client, INDEX, settings_with(sizes))
            outcomes[label] = outcome = Outcome({}, {})
            for name, qs in sets.items():
                found = await ranks(client, qs)
                outcome.ranks[name] = [r for r, _ in found]
                outcome.totals[name] = [t for _, t in found]
            print(f"  {label}: {time.monotonic() - started:.0f} s", flush=True)
        await wait_for(client, await client.index(INDEX).delete(), 120)
    finally:
        await client.aclose()
    return outcomes


# ---- the report --------------------------------------------------------------------------

EXACT = "exact title (precision)"
NOISE = (EXACT, "(a) one typo, word of 5+ letters")
SHOWN_MISSES = ("(b) two typos, word of 8+ letters", "(e) real-world misspellings")


def _recall(found: list[int | None]) -> str:
    at1 = sum(r == 1 for r in found) / len(found)
    at5 = sum(r is not None for r in found) / len(found)
    return f"{100 * at1:.1f}% / {100 * at5:.1f}%"


def _quoted(qs: Sequence[str], most: int = 8) -> str:
    return ", ".join(repr(q) for q in qs[:most]) + (" …" if len(qs) > most else "")


def report(sets: dict[str, list[Query]], outcomes: dict[str, Outcome]) -> str:
    headers = ["query set", "queries", *(f"{label}: @1 / @5" for label in outcomes)]
    rows = [
        [name, len(qs), *(_recall(o.ranks[name]) for o in outcomes.values())]
        for name, qs in sets.items()
    ]
    for name in NOISE:
        means = (f"{statistics.mean(o.totals[name]):,.0f}" for o in outcomes.values())
        rows.append([f"mean matches per query, {name}", len(sets[name]), *means])
    default = outcomes[next(iter(outcomes))]
    misses, lost = [], []
    for label, outcome in outcomes.items():
        for name in SHOWN_MISSES:
            found = zip(sets[name], outcome.ranks[name], strict=True)
            missed = [q.q for q, r in found if r is None]
            misses.append(f"- {label}, {name}: {len(missed)} missed: {_quoted(missed) or '-'}")
        dropped = [
            q.q
            for q, was, now in zip(
                sets[EXACT], default.ranks[EXACT], outcome.ranks[EXACT], strict=True
            )
            if was == 1 and now != 1
        ]
        lost.append(f"- {label}: {len(dropped)} {_quoted(dropped)}".rstrip())
    examples = [f"- {name}: {_quoted([q.q for q in qs], 4)}" for name, qs in sets.items()]
    return "\n\n".join(
        [
            table(headers, rows),
            "Recall@1 / recall@5: the share of queries whose intended movie is first / among the "
            f"first {TOP} results of the API's search request (page 1, facets, highlighting). "
            f"Sets are drawn with seed {SEED} from the {len(sets[EXACT]):,} movies whose title "
            "no other movie shares; a typo is a substitution, insertion, deletion or swap of "
            "neighbours, never on a word's first letter; a two-typo word is at edit distance 2 "
            "(a swap counts 1) from the original. Columns are "
            "`typoTolerance.minWordSizeForTypos` (oneTypo, twoTypos): the length of the *typed* "
            "word from which one or two typos are allowed; everything else is "
            "`indexer.settings.SETTINGS`.",
            "Mean matches per query: `total_results` of the same searches, the noise a looser "
            "setting adds below the first results.",
            "Examples:\n" + "\n".join(examples),
            "Misses at 5:\n" + "\n".join(misses),
            "Exact titles at rank 1 with the defaults that are not with the candidate:\n"
            + "\n".join(lost),
        ]
    )


def run(keep_database: bool = False) -> str:
    try:
        if not _ready():
            import_bench.run_import(DATABASE, stack.TMDB_FILES, "TMDB 5000", None)
        docs = asyncio.run(documents())
        sets = query_sets(docs)
        print("  " + ", ".join(f"{name}: {len(qs)}" for name, qs in sets.items()), flush=True)
        with stack.meilisearch() as meili:
            outcomes = asyncio.run(measure(meili, sets, docs))
        body = report(sets, outcomes)
        machine = asyncio.run(stack.machine_rows())
    finally:
        if not keep_database:
            asyncio.run(stack.drop_database(DATABASE))
    write_result(NAME, "Search recall by typo tolerance", body, machine)
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.recall_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--keep-database", action="store_true", help=f"keep {DATABASE} for a later run"
    )
    args = parser.parse_args(argv)
    print(run(args.keep_database))
    return 0


if __name__ == "__main__":
    sys.exit(main())
