"""`python -m bench [name ...]`: run the named benchmarks (default: all), print each table."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import traceback
from collections.abc import Callable

from bench import (
    faults_bench,
    freshness_bench,
    import_bench,
    load_bench,
    recall_bench,
    reindex_bench,
    stack,
)

# In this order: reindex reuses the databases the import benchmark leaves behind.
BENCHMARKS: dict[str, Callable[[], str]] = {
    import_bench.NAME: import_bench.run,
    reindex_bench.NAME: reindex_bench.run,
    freshness_bench.NAME: freshness_bench.run,
    load_bench.NAME: load_bench.run,
    faults_bench.NAME: faults_bench.run,
    recall_bench.NAME: recall_bench.run,
}


def _drop_databases() -> None:
    async def drop() -> list[str]:
        names = [n for n in await stack.bench_databases() if n.startswith(stack.OURS)]
        for name in names:
            await stack.drop_database(name)
        return names

    dropped = asyncio.run(drop())
    if dropped:
        print(f"dropped {', '.join(dropped)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help="any of: " + ", ".join(BENCHMARKS))
    parser.add_argument(
        "--keep-databases", action="store_true", help="keep the marquee_bench* databases"
    )
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )
    failed = []
    try:
        for name in names:
            print(f"== {name}", flush=True)
            started = time.monotonic()
            try:
                body = BENCHMARKS[name]()
            except Exception:  # noqa: BLE001 - report it and go on with the next benchmark
                traceback.print_exc()
                failed.append(name)
                continue
            print(
                f"\n{body}\n\n({name}: {time.monotonic() - started:.0f} s; "
                f"bench/results/{name}.md)\n",
                flush=True,
            )
    finally:
        if not args.keep_databases:
            _drop_databases()
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
