"""Real TMDB clients against a real Marquee: uvicorn on a free port (the clients use requests
and aiohttp, not an ASGI shortcut), with an account and API key committed for it. Two servers:
`server` on the test database (module-wide), `tmdb_server` on the session's TMDB catalog with
both indexes built (read-only for its tests: whatever a test writes there, it removes)."""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import requests
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from api.db import make_engine
from api.movies.models import Genre
from api.settings import Settings
from api.users import api_keys
from api.users.models import User
from devstack.servers import die_with_parent, free_port
from tests.conftest import PASSWORD_HASH, ROOMY_LIMIT

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 30.0
T = TypeVar("T")
ROOMY_LIMITS = ("LOGIN_ACCOUNT", "LOGIN_ADDRESS", "REGISTER_ADDRESS", "API_KEY")
PASSWORD = "password123"  # tests.conftest.PASSWORD_HASH's


@dataclass
class Server:
    url: str
    key: str
    genre: Genre
    log: Path

    @property
    def base_uri(self) -> str:
        return f"{self.url}/3"


def server_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "MEILI_URL": settings.MEILI_URL,
        "MEILI_MASTER_KEY": settings.MEILI_MASTER_KEY,
        "MEILI_INDEX": settings.MEILI_INDEX,
        "SECRET_KEY": settings.SECRET_KEY,
        "CACHE_TTL_SECONDS": "0",
        **{f"RATE_LIMIT_{name}": ROOMY_LIMIT for name in ROOMY_LIMITS},
        "ADMIN_EMAIL": "",
        "ADMIN_PASSWORD": "",
        "PYTHONUNBUFFERED": "1",  # the access log reaches its file as each request ends
    }


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`args` run from the project's root, its output to `log`; it dies with the tests."""
    with log.open("wb") as out:
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )


def start_uvicorn(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    return _spawn(args, server_env(settings), log)


def procfile_web() -> str:
    [line] = [ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("web:")]
    return line.removeprefix("web:").strip()


def start_procfile_web(
    settings: Settings, port: int, log: Path, **env: str
) -> subprocess.Popen[bytes]:
    """The Procfile's web command (one process) on `port`, with `env` over server_env's."""
    path = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    full = {**server_env(settings), "PORT": str(port), "WEB_CONCURRENCY": "1", **env, "PATH": path}
    return _spawn(["sh", "-c", f"exec {procfile_web()}"], full, log)


def read_log(log: Path) -> str:
    return log.read_text(errors="replace")


async def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    async with httpx.AsyncClient(timeout=1.0) as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, read_log(log)
            try:
                if (await http.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"uvicorn did not answer within {START_SECONDS} s:\n{read_log(log)}")


@asynccontextmanager
async def serving(process: subprocess.Popen[bytes], port: int, log: Path) -> AsyncIterator[str]:
    """The URL of `process`'s server once it answers /health; the server is stopped at the end."""
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 15)


async def committed_account(engine: AsyncEngine) -> tuple[int, str, str]:
    """(id, email, API key) of a new user whose password is PASSWORD: committed, so the
    server sees it."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        email = f"client-{uuid.uuid4().hex[:10]}@example.com"
        user = User.model_validate(
            {"email": email, "password_hash": PASSWORD_HASH, "display_name": "Client"}
        )
        session.add(user)
        await session.flush()
        assert user.id is not None
        _, key = await api_keys.create(session, user.id, "TMDB client")
        await session.commit()
    return user.id, email, key


async def committed_owner(engine: AsyncEngine) -> tuple[int, str, Genre]:
    """A user with a key, and a genre: committed, so the server sees them."""
    user_id, _, key = await committed_account(engine)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        genre = Genre.model_validate({"name": f"Client genre {uuid.uuid4().hex[:8]}"})
        session.add(genre)
        await session.commit()
    return user_id, key, genre


@pytest.fixture(scope="module")
async def server(
    settings: Settings, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    user_id, key, genre = await committed_owner(engine)
    port, log = free_port(), tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    try:
        async with serving(start_uvicorn(settings, port, log), port, log) as url:
            yield Server(url, key, genre, log)
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(User).where(col(User.id) == user_id))  # its keys cascade
            await conn.execute(delete(Genre).where(col(Genre.id) == genre.id))


@dataclass
class CatalogServer:
    """A server on the TMDB catalog: its URL, an account (email, password) and its key."""

    url: str
    key: str
    email: str
    password: str
    user_id: int
    log: Path

    @property
    def base_uri(self) -> str:
        return f"{self.url}/3"


@pytest.fixture(scope="session")
async def tmdb_server(
    tmdb_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[CatalogServer]:
    """uvicorn on the TMDB catalog (tests.catalogs.tmdb_settings), uncached, with an account
    (password PASSWORD) and an API key; the account goes at the end, with what it wrote."""
    engine = make_engine(tmdb_settings.DATABASE_URL)
    user_id, email, key = await committed_account(engine)
    port, log = free_port(), tmp_path_factory.mktemp("uvicorn-tmdb") / "uvicorn.log"
    try:
        async with serving(start_uvicorn(tmdb_settings, port, log), port, log) as url:
            yield CatalogServer(url, key, email, PASSWORD, user_id, log)
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(User).where(col(User.id) == user_id))
        await engine.dispose()


async def in_thread(call: Callable[[], T]) -> T:
    """tmdbsimple blocks (requests): keep it off the event loop."""
    return await asyncio.to_thread(call)


def pointed(obj: T, server: "Server | CatalogServer") -> T:
    obj.base_uri = server.base_uri  # type: ignore[attr-defined]
    return obj


def refused(call: Callable[[], Any]) -> requests.Response:
    with pytest.raises(requests.HTTPError) as raised:
        call()
    response = raised.value.response
    assert response is not None
    return response
