"""A real TMDB client against a real Marquee: tmdbsimple (requests, from PyPI) pointed at a
uvicorn server on a free port exactly as TMDB_V3.md section 2 says (`base_uri` per object).
Its data is committed (the server has connections of its own) and removed at the end."""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import requests
import tmdbsimple as tmdb
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from api.movies.models import Genre
from api.settings import Settings
from api.users import api_keys
from api.users.models import User
from devstack.servers import die_with_parent, free_port
from tests.conftest import PASSWORD_HASH

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 30.0
T = TypeVar("T")


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
        "ADMIN_EMAIL": "",
        "ADMIN_PASSWORD": "",
        "PYTHONUNBUFFERED": "1",  # the access log reaches its file as each request ends
    }


def start_uvicorn(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=server_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )


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


async def committed_owner(engine: AsyncEngine) -> tuple[int, str, Genre]:
    """A user with a key, and a genre: committed, so the server sees them."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        email = f"client-{uuid.uuid4().hex[:10]}@example.com"
        user = User.model_validate(
            {"email": email, "password_hash": PASSWORD_HASH, "display_name": "Client"}
        )
        genre = Genre.model_validate({"name": f"Client genre {uuid.uuid4().hex[:8]}"})
        session.add_all([user, genre])
        await session.flush()
        assert user.id is not None
        _, key = await api_keys.create(session, user.id, "tmdbsimple")
        await session.commit()
    return user.id, key, genre


@pytest.fixture(scope="module")
async def server(
    settings: Settings, engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    user_id, key, genre = await committed_owner(engine)
    port, log = free_port(), tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    process = start_uvicorn(settings, port, log)
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url, process, log)
        yield Server(url, key, genre, log)
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 15)
        async with engine.begin() as conn:
            await conn.execute(delete(User).where(col(User.id) == user_id))  # its keys cascade
            await conn.execute(delete(Genre).where(col(Genre.id) == genre.id))


@pytest.fixture
def client_settings(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """tmdbsimple's module settings for this test: the key, a timeout, ?api_key= auth."""
    monkeypatch.setattr(tmdb, "API_KEY", server.key)
    monkeypatch.setattr(tmdb, "REQUESTS_TIMEOUT", 10)
    monkeypatch.setattr(tmdb, "USE_BEARER_AUTH", False)
    return server


async def in_thread(call: Callable[[], T]) -> T:
    """tmdbsimple blocks (requests): keep it off the event loop."""
    return await asyncio.to_thread(call)


def pointed(obj: T, server: Server) -> T:
    obj.base_uri = server.base_uri  # type: ignore[attr-defined]
    return obj


def refused(call: Callable[[], Any]) -> requests.Response:
    with pytest.raises(requests.HTTPError) as raised:
        call()
    response = raised.value.response
    assert response is not None
    return response


class TestTmdbsimple:
    async def test_genres_movie_list_reads_marquees_genres(self, client_settings: Server) -> None:
        genres = pointed(tmdb.Genres(), client_settings)
        body = await in_thread(genres.movie_list)
        listed = {g["id"]: g["name"] for g in body["genres"]}
        assert listed[client_settings.genre.id] == client_settings.genre.name
        assert genres.genres == body["genres"]  # tmdbsimple sets the answer's keys on the object

    async def test_the_key_as_bearer_token_works_too(
        self, client_settings: Server, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(tmdb, "USE_BEARER_AUTH", True)  # read when the object is made
        genres = pointed(tmdb.Genres(), client_settings)
        assert "Authorization" in genres.headers
        body = await in_thread(genres.movie_list)
        assert any(g["id"] == client_settings.genre.id for g in body["genres"])

    async def test_a_bad_key_raises_with_tmdbs_401_code_7(
        self, client_settings: Server, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(tmdb, "API_KEY", "0" * 32)
        genres = pointed(tmdb.Genres(), client_settings)
        response = await in_thread(lambda: refused(genres.movie_list))
        assert response.status_code == 401
        assert response.json()["status_code"] == 7

    async def test_a_path_not_built_yet_raises_with_tmdbs_404_code_34(
        self, client_settings: Server
    ) -> None:
        show = pointed(tmdb.TV(1399), client_settings)
        response = await in_thread(lambda: refused(show.info))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert response.json()["status_code"] == 34

    async def test_the_access_log_masks_the_key(self, client_settings: Server) -> None:
        genres = pointed(tmdb.Genres(), client_settings)
        await in_thread(genres.movie_list)
        log = read_log(client_settings.log)
        assert "/3/genre/movie/list?api_key=***" in log
        assert client_settings.key not in log
