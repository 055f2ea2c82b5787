"""The load benchmark's machinery: wrk driven by a Lua script that rotates through a list of
requests, uvicorn servers started as pinned subprocesses, and their memory sampled meanwhile."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
# Two cores: the server gets one, the load generator the other (see pinning()).
SERVER_CPUS = "0"
LOAD_CPUS = "1"

LUA = r"""
-- Rotates through the requests in the file given after `--`: one per line,
-- METHOD <tab> PATH [<tab> BODY]. Headers come from wrk's -H options.
local reqs = {}
local i = 0
function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local method, path, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
    if method then
      if body == "" then body = nil end
      reqs[#reqs + 1] = wrk.format(method, path, nil, body)
    end
  end
  f:close()
  i = tonumber(args[2] or "0") % #reqs
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50":%d,"p90":%d,"p95":%d,' ..
    '"p99":%d,"max":%d,"mean":%.1f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def _die_with_parent() -> Callable[[], None]:
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def set_pdeathsig() -> None:
        prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG: no orphan if we are killed

    return set_pdeathsig


def can_pin() -> bool:
    return shutil.which("taskset") is not None and len(os.sched_getaffinity(0)) >= 2


def pinned(cmd: list[str], cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus, *cmd] if cpus and can_pin() else cmd


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrk_version() -> str:
    binary = shutil.which("wrk")
    if not binary:
        return "not installed"
    done = subprocess.run([binary, "-v"], capture_output=True, text=True)
    return (done.stdout + done.stderr).splitlines()[0].split(" Copyright")[0].strip()


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non_2xx: int
    rss_mib: float = 0.0  # peak RSS of the server (all its processes), sampled meanwhile
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    url: str,
    requests: Sequence[tuple[str, str, str]],
    workdir: Path,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    server_pid: int | None = None,
    timeout_s: float = 10.0,
) -> WrkResult:
    """wrk with one thread (pinned to LOAD_CPUS) rotating through `requests` for `seconds`."""
    script = workdir / "rotate.lua"
    if not script.exists():
        script.write_text(LUA)
    listing = workdir / f"requests-{abs(hash(tuple(requests))) % 10**12}.tsv"
    if not listing.exists():
        lines = []
        for method, path, body in requests:
            assert "\t" not in path + body and "\n" not in path + body
            lines.append(f"{method}\t{path}\t{body}" if body else f"{method}\t{path}")
        listing.write_text("\n".join(lines) + "\n")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    cmd += [f"--timeout={timeout_s:g}s", "-s", str(script)]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    cmd += [url, "--", str(listing), "0"]
    with RssSampler(server_pid) as rss:
        done = subprocess.run(
            pinned(cmd, LOAD_CPUS),
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            preexec_fn=_die_with_parent(),
        )
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    r = json.loads(line.removeprefix("WRKJSON "))
    return WrkResult(
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        p50_ms=r["p50"] / 1000,
        p95_ms=r["p95"] / 1000,
        p99_ms=r["p99"] / 1000,
        max_ms=r["max"] / 1000,
        errors=r["connect"] + r["read"] + r["write"] + r["timeout"],
        non_2xx=r["status"],
        rss_mib=rss.peak_mib,
        extra={"kib_per_response": r["bytes"] / max(1, r["requests"]) / 1024},
    )


def tree_rss(pid: int) -> float:
    """Resident memory of a process and its children, MiB (0 if it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        with suppress(psutil.Error):
            total += p.memory_info().rss
    return total / 2**20


class RssSampler:
    """Peak tree RSS of `pid` every 0.2 s while the block runs."""

    def __init__(self, pid: int | None, interval: float = 0.2) -> None:
        self.pid, self.interval, self.peak_mib = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            if self.pid is not None:
                self.peak_mib = max(self.peak_mib, tree_rss(self.pid))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode}: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + path, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"server at {url} not ready: {log.read_text()[-3000:]}")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@contextmanager
def uvicorn(
    app: str,
    env: dict[str, str],
    log: Path,
    options: Sequence[str] = (),
    cpus: str | None = SERVER_CPUS,
    ready_path: str = "/health",
) -> Iterator[Server]:
    """`uvicorn <app> --factory <options>` on a free port, pinned to `cpus` (None: unpinned)."""
    port = free_port()
    cmd = [str(VENV_BIN / "uvicorn"), app, "--factory", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), *options]
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        process = subprocess.Popen(
            pinned(cmd, cpus),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log, ready_path)
        yield Server(url, process)
    finally:
        stop_process(process)
