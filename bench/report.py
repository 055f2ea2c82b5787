"""What every benchmark shares for its output: tables, the machine, result files, peak memory."""

from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

RESULTS = Path(__file__).resolve().parent / "results"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table, columns padded so it also reads well in a terminal."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(mariadb: str, meilisearch: str) -> list[tuple[str, str]]:
    """The machine the figures were measured on (load average: other work sharing it)."""
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return [
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("CPU", _cpu_model()),
        ("memory", f"{psutil.virtual_memory().total / 2**30:.1f} GiB"),
        ("Python", platform.python_version()),
        ("MariaDB", mariadb),
        ("Meilisearch", meilisearch),
        ("load average at the end (1, 5, 15 min)", load),
    ]


def sized_result(name: str, module: str, movies: int, default: int) -> tuple[str, str]:
    """The result file's name and the command that makes it: the default catalog size keeps
    `name`, another size gets its own file (import-1000k.md) so one run does not hide the other."""
    if movies == default:
        return name, f"python -m bench {name}"
    return f"{name}-{movies // 1000}k", f"python -m bench.{module} --movies {movies}"


def write_result(
    name: str,
    title: str,
    body: str,
    machine_rows: list[tuple[str, str]],
    command: str | None = None,
) -> Path:
    """bench/results/<name>.md: the figures, then the machine (written atomically)."""
    command = command or f"python -m bench {name}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"# {title}\n\nMeasured {stamp} by `{command}`.\n\n{body.strip()}\n\n"
        f"## Machine\n\n{table(['', ''], machine_rows)}\n"
    )
    path = RESULTS / f"{name}.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def mib(n_bytes: float) -> float:
    return n_bytes / 2**20


class PeakRss:
    """Samples this process's resident memory every `interval` s while the block runs."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.start = self.peak = psutil.Process().memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, me.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self.start = self.peak = psutil.Process().memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, psutil.Process().memory_info().rss)


def _child(fn: Callable[..., dict[str, Any]], args: tuple[Any, ...], conn: Any) -> None:
    try:
        result = fn(*args)
        result["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send(("ok", result))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        conn.close()


class ChildTimeout(TimeoutError):
    pass


def isolated(
    fn: Callable[..., dict[str, Any]], *args: Any, timeout: float | None = None
) -> dict[str, Any]:
    """Run fn(*args) in a fresh Python process, so its peak RSS is its own (not an earlier
    phase's); returns fn's dict plus ru_maxrss_mib. Kills the child past timeout."""
    # Not spawn: a spawned child inherits the peak RSS of the process it was forked from, which
    # would floor every figure at the parent's size; the fork server holds only the imports.
    ctx = multiprocessing.get_context("forkserver")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(fn, args, child), daemon=True)
    process.start()
    child.close()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while not parent.poll(1.0):
            if not process.is_alive():
                raise RuntimeError(f"benchmark child exited with {process.exitcode} and no result")
            if deadline is not None and time.monotonic() > deadline:
                raise ChildTimeout(f"gave up after {timeout:.0f} s")
        status, payload = parent.recv()
    finally:
        if process.is_alive():
            process.join(timeout=5 if deadline is None or time.monotonic() < deadline else 0)
        if process.is_alive():
            process.terminate()
            process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
    if status != "ok":
        raise RuntimeError(f"benchmark child failed: {payload}")
    return dict(payload)


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values; nan for none."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))]


def verdict(over: float) -> str:
    """`over`: the figure divided by its target, oriented so that above 1 misses."""
    return "met" if over <= 1 else f"MISSED by {100 * (over - 1):.0f}%"
