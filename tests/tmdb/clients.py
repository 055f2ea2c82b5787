"""Fixtures for the TMDB clients (tmdbsimple, tmdbv3api, themoviedb sync and async, tmdbapis),
each pointed at tests.tmdb.live.tmdb_server as TMDB_V3.md section 2 says, with a timeout."""

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import tmdbapis.api3
import tmdbsimple
import tmdbv3api
from themoviedb import TMDb as MovieDb
from themoviedb import aioTMDb as AioMovieDb
from tmdbapis import TMDbAPIs

from tests.tmdb.live import CatalogServer, in_thread

TIMEOUT = 10


class TimeoutSession(requests.Session):
    """tmdbapis and tmdbv3api set no timeout: a session that does (TMDB_V3.md section 2)."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(*args, **kwargs)


@pytest.fixture
def simple(tmdb_server: CatalogServer, monkeypatch: pytest.MonkeyPatch) -> CatalogServer:
    """tmdbsimple's module settings for this test: the key, a timeout, ?api_key= auth."""
    monkeypatch.setattr(tmdbsimple, "API_KEY", tmdb_server.key)
    monkeypatch.setattr(tmdbsimple, "REQUESTS_TIMEOUT", TIMEOUT)
    monkeypatch.setattr(tmdbsimple, "USE_BEARER_AUTH", False)
    return tmdb_server


def v3_environment(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """tmdbv3api's settings in the environment for this test: the key, no session or account,
    no response cache (an lru_cache across tests)."""
    for name in ("TMDB_SESSION_ID", "TMDB_ACCOUNT_ID", "page", "total_results", "total_pages"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TMDB_API_KEY", key)
    monkeypatch.setenv("TMDB_LANGUAGE", "en-US")
    monkeypatch.setenv("TMDB_CACHE_ENABLED", "False")


@pytest.fixture
def v3(tmdb_server: CatalogServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[CatalogServer]:
    """tmdbv3api's global state (environment variables, its class-wide session), set for this
    test and restored after it."""
    v3_environment(monkeypatch, tmdb_server.key)
    monkeypatch.setattr(tmdbv3api.TMDb, "_session", TimeoutSession())
    yield tmdb_server


def v3_pointed(obj: Any, server: CatalogServer) -> Any:
    obj._base = server.base_uri  # per object (TMDB_V3.md section 2, tmdbv3api (a))
    return obj


@pytest.fixture
def moviedb(tmdb_server: CatalogServer) -> MovieDb:
    client = MovieDb(api_key=tmdb_server.key, language="en-US", region="US", timeout=TIMEOUT)
    client._config.host = tmdb_server.url  # scheme and host: the client appends /3/<path>
    return client


@pytest.fixture
def aio_moviedb(tmdb_server: CatalogServer) -> AioMovieDb:
    client = AioMovieDb(api_key=tmdb_server.key, language="en-US", region="US", timeout=TIMEOUT)
    client._config.host = tmdb_server.url
    return client


@pytest.fixture
async def kometa(tmdb_server: CatalogServer, monkeypatch: pytest.MonkeyPatch) -> TMDbAPIs:
    """tmdbapis, constructed (it reads the six configuration lists) against the server."""
    monkeypatch.setattr(tmdbapis.api3, "base_url", tmdb_server.base_uri)
    return await in_thread(lambda: TMDbAPIs(tmdb_server.key, session=TimeoutSession()))
