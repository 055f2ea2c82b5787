"""py-spy profiles of the API under wrk load, summarized as text: where the server's CPU goes.

py-spy is not a project dependency: `.venv/bin/pip install py-spy` first (the load benchmark
skips profiling without it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from bench.load_wrk import ROOT

PY_SPY = ROOT / ".venv" / "bin" / "py-spy"
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def available() -> bool:
    return PY_SPY.exists() or shutil.which("py-spy") is not None


def start(pid: int, seconds: float, out: Path, rate: int = 250) -> subprocess.Popen[bytes]:
    binary = str(PY_SPY) if PY_SPY.exists() else "py-spy"
    cmd = [
        binary,
        "record",
        "--pid",
        str(pid),
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--output",
        str(out),
        "--duration",
        str(max(1, round(seconds))),
        "--nonblocking",
        "--subprocesses",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _short(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m["file"]
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m['func']} ({path})"


def summarize(raw: Path, top: int = 14) -> tuple[int, list[tuple[str, float, float]]]:
    """(samples, [(function, inclusive %, self %)]) by inclusive share, from py-spy's raw output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [
            _short(f)
            for f in stack.split(";")
            if f and not f.startswith("process ") and not f.startswith("thread ")
        ]
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    rows = [(f, 100 * c / total, 100 * own[f] / total) for f, c in inclusive.most_common(600)]
    interesting = [r for r in rows if not _is_plumbing(r[0])]
    by_self = sorted(rows, key=lambda r: -r[2])[:top]
    return total, interesting[:top] + [("— top by self time —", 0.0, 0.0)] + by_self


# Frames every request passes through (server loop, CLI, middleware and routing wrappers): their
# inclusive share says nothing about where the time goes.
_PLUMBING = (
    "click/",
    "uvicorn/",
    "asyncio/runners.py",
    "asyncio/base_events.py",
    "asyncio/events.py",
    "starlette/middleware/",
    "starlette/_exception_handler.py",
    "starlette/routing.py",
    "fastapi/routing.py",
    "fastapi/middleware/",
    "api/main.py",
    "api/http_cache.py",
    "<module>",
    "threading.py",
)


def _is_plumbing(frame: str) -> bool:
    if frame.startswith(("<module>", "Runner.run", "run (", "_bootstrap")):
        return True
    return any(marker in frame for marker in _PLUMBING[:-2])
