"""The user side with the real TMDB clients (tmdbv3api, themoviedb sync and async, tmdbapis,
tmdbsimple), from PyPI and unmodified, through their own public APIs against a real Marquee on
the TMDB 5000 catalog: TMDB's login flow with the server account's email and password, then
with each session the account, watchlist and favorites, a rating (the rated list and the
account states), and the session's end. Everything written to the shared catalog is undone,
and the movies' votes are checked back to exactly what they were."""

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import requests
import tmdbapis.api3
import tmdbsimple
import tmdbv3api
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from themoviedb import TMDb as MovieDb
from themoviedb import aioTMDb as AioMovieDb
from themoviedb.exceptions import TMDbAuthenticationError, TMDbHTTPError
from tmdbapis import TMDbAPIs
from tmdbapis.api3 import API3
from tmdbapis.exceptions import TMDbException as KometaError
from tmdbapis.exceptions import Unauthorized
from tmdbv3api.exceptions import TMDbException

from api.db import make_engine
from api.movies.models import Movie
from api.settings import Settings
from api.trending.models import MovieActivity
from api.users import api_keys
from devstack.servers import free_port
from tests.tmdb.clients import TIMEOUT, v3_environment
from tests.tmdb.live import (
    CatalogServer,
    in_thread,
    pointed,
    refused,
    serving,
    start_uvicorn,
)

AVATAR, INCEPTION = 19995, 27205
TOUCHED = (AVATAR, INCEPTION)
TMDB_ORIGIN = "https://api.themoviedb.org"
AUTH_FAILED = "Authentication failed: You do not have permissions to access the service."
BAD_LOGIN = "Invalid username and/or password: You did not provide a valid login."
INVALID_TOKEN = "Invalid request token: The request token is either expired or invalid."


class MarqueeSession(requests.Session):
    """TMDB_V3.md section 2's way for clients that call the API in their constructors: every
    request to TMDB's origin goes to Marquee, with a timeout."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(method, str(url).replace(TMDB_ORIGIN, self.url, 1), *args, **kwargs)


async def _votes(engine: AsyncEngine) -> dict[int, tuple[Any, ...]]:
    columns = (Movie.id, Movie.vote_average, Movie.vote_count, Movie.user_rating_sum)
    stmt = select(*columns).where(col(Movie.id).in_(TOUCHED))
    async with engine.connect() as conn:
        return {row[0]: tuple(row[1:]) for row in await conn.execute(stmt)}


async def _undo_native(server: CatalogServer) -> None:
    """Through the native API (so the votes are restored as the native service restores them):
    the account's reviews, watchlist and favorites of the touched movies."""
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as http:
        login = {"username": server.email, "password": server.password}
        token = (await http.post("/auth/token", data=login)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for movie_id in TOUCHED:
            for path in ("/reviews", "/watchlist", "/favorites"):
                await http.delete(f"{path}/{movie_id}", headers=headers)


@pytest.fixture
async def restored(tmdb_server: CatalogServer, tmdb_settings: Settings) -> AsyncIterator[None]:
    """Whatever a test writes for the account on the shared catalog goes at its end (and the
    trending activity it recorded); the touched movies' votes must be exactly as before."""
    engine = make_engine(tmdb_settings.DATABASE_URL)
    before = await _votes(engine)
    try:
        yield
    finally:
        await _undo_native(tmdb_server)
        async with engine.begin() as conn:
            mine = col(MovieActivity.user_id) == tmdb_server.user_id
            await conn.execute(delete(MovieActivity).where(mine))
        after = await _votes(engine)
        await engine.dispose()
    assert after == before


def bare_http(server: CatalogServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base_uri, timeout=TIMEOUT)


async def account_answer(server: CatalogServer, session_id: str, key: str | None = None) -> Any:
    """GET /3/account as any app would send it: whether the session works, and whose it is."""
    async with bare_http(server) as http:
        params = {"api_key": key or server.key, "session_id": session_id}
        return await http.get("/account", params=params)


# tmdbv3api ------------------------------------------------------------------------------------


@pytest.fixture
def v3(
    tmdb_server: CatalogServer, monkeypatch: pytest.MonkeyPatch, restored: None
) -> Iterator[CatalogServer]:
    """tmdbv3api's global state for this test, restored after it: the key and the session in
    the environment, no response cache, and every class's shared requests session routed to
    Marquee (Authentication(u, p) calls the API in its constructor)."""
    v3_environment(monkeypatch, tmdb_server.key)
    session = MarqueeSession(tmdb_server.url)
    for cls in (tmdbv3api.TMDb, tmdbv3api.Authentication, tmdbv3api.Account, tmdbv3api.Movie):
        monkeypatch.setattr(cls, "_session", session)
    yield tmdb_server


class TestTmdbv3api:
    async def test_login_then_account_lists_rating_and_logout(self, v3: CatalogServer) -> None:
        auth = await in_thread(lambda: tmdbv3api.Authentication(v3.email, v3.password))
        account, movie = tmdbv3api.Account(), tmdbv3api.Movie()
        details = await in_thread(account.details)
        assert (details.id, details.username) == (v3.user_id, v3.email)
        assert await in_thread(lambda: account.account_id) == str(v3.user_id)

        await in_thread(lambda: account.add_to_watchlist(AVATAR, "movie"))
        assert [m.id for m in await in_thread(account.movie_watchlist)] == [AVATAR]
        await in_thread(lambda: account.remove_from_watchlist(AVATAR, "movie"))
        assert list(await in_thread(account.movie_watchlist)) == []

        await in_thread(lambda: account.mark_as_favorite(INCEPTION, "movie"))
        await in_thread(lambda: account.mark_as_favorite(AVATAR, "movie"))
        oldest_first = [m.id for m in await in_thread(account.favorite_movies)]
        newest_first = [m.id for m in await in_thread(lambda: account.favorite_movies(False))]
        assert (oldest_first, newest_first) == ([INCEPTION, AVATAR], [AVATAR, INCEPTION])
        await in_thread(lambda: account.unmark_as_favorite(INCEPTION, "movie"))
        await in_thread(lambda: account.unmark_as_favorite(AVATAR, "movie"))
        assert list(await in_thread(account.favorite_movies)) == []

        await in_thread(lambda: movie.rate_movie(INCEPTION, 8))
        assert [(m.id, m.rating) for m in await in_thread(account.rated_movies)] == [(INCEPTION, 8)]
        states = await in_thread(lambda: movie.account_states(INCEPTION))
        assert (states.id, states.rated.value, states.watchlist) == (INCEPTION, 8, False)
        await in_thread(lambda: movie.delete_rating(INCEPTION))
        assert (await in_thread(lambda: movie.account_states(INCEPTION))).rated is False

        session_id = auth.session_id
        await in_thread(auth.delete_session)
        assert (await account_answer(v3, session_id)).json()["status_code"] == 3

    async def test_a_wrong_password_raises_tmdbs_message(self, v3: CatalogServer) -> None:
        with pytest.raises(TMDbException, match=BAD_LOGIN):
            await in_thread(lambda: tmdbv3api.Authentication(v3.email, "not-the-password"))

    async def test_an_ended_session_raises_authentication_failed(self, v3: CatalogServer) -> None:
        auth = await in_thread(lambda: tmdbv3api.Authentication(v3.email, v3.password))
        session_id = auth.session_id
        await in_thread(auth.delete_session)
        tmdbv3api.TMDb().session_id = session_id  # the ended session, as an app that kept it
        with pytest.raises(TMDbException, match=AUTH_FAILED):
            await in_thread(tmdbv3api.Account().details)


# themoviedb -----------------------------------------------------------------------------------


class TestThemoviedb:
    """themoviedb has no account routes: only the login flow and the session's end."""

    async def test_login_makes_a_session_of_the_account_and_delete_ends_it(
        self, moviedb: MovieDb, tmdb_server: CatalogServer
    ) -> None:
        auth = moviedb.authentication()
        token = await in_thread(auth.create_token)
        assert token.success is True and token.valid_until is not None
        approved = await in_thread(
            lambda: auth.create_session_with_login(
                tmdb_server.email, tmdb_server.password, token.request_token
            )
        )
        assert approved.request_token == token.request_token
        session = await in_thread(lambda: auth.create_session(token.request_token))
        assert session.success is True and session.session_id
        assert (await account_answer(tmdb_server, session.session_id)).json()[
            "id"
        ] == tmdb_server.user_id
        ended = await in_thread(lambda: auth.delete_session(session.session_id))
        assert ended.success is True
        assert (await account_answer(tmdb_server, session.session_id)).status_code == 401

    async def test_a_wrong_password_raises_an_authentication_error(
        self, moviedb: MovieDb, tmdb_server: CatalogServer
    ) -> None:
        auth = moviedb.authentication()
        token = await in_thread(auth.create_token)
        with pytest.raises(TMDbAuthenticationError) as raised:
            await in_thread(
                lambda: auth.create_session_with_login(
                    tmdb_server.email, "wrong-one", token.request_token
                )
            )
        assert raised.value.status_code == 401

    async def test_a_used_token_makes_no_second_session(
        self, moviedb: MovieDb, tmdb_server: CatalogServer
    ) -> None:
        auth = moviedb.authentication()
        token = (await in_thread(auth.create_token)).request_token
        await in_thread(
            lambda: auth.create_session_with_login(tmdb_server.email, tmdb_server.password, token)
        )
        session = await in_thread(lambda: auth.create_session(token))
        with pytest.raises(TMDbAuthenticationError):
            await in_thread(lambda: auth.create_session(token))
        await in_thread(lambda: auth.delete_session(session.session_id))

    async def test_the_async_client_logs_in_and_out_too(
        self, aio_moviedb: AioMovieDb, tmdb_server: CatalogServer
    ) -> None:
        auth = aio_moviedb.authentication()
        token = await auth.create_token()
        await auth.create_session_with_login(
            tmdb_server.email, tmdb_server.password, token.request_token
        )
        session = await auth.create_session(token.request_token)
        assert (await account_answer(tmdb_server, session.session_id)).json()[
            "id"
        ] == tmdb_server.user_id
        assert (await auth.delete_session(session.session_id)).success is True
        with pytest.raises(TMDbHTTPError) as raised:
            await auth.delete_session(session.session_id)  # no such session now: code 37
        assert raised.value.status_code == 404

    async def test_the_async_client_refuses_an_unapproved_token(
        self, aio_moviedb: AioMovieDb
    ) -> None:
        auth = aio_moviedb.authentication()
        token = await auth.create_token()
        with pytest.raises(TMDbAuthenticationError) as raised:
            await auth.create_session(token.request_token)  # 401 code 17
        assert raised.value.status_code == 401


# tmdbapis -------------------------------------------------------------------------------------


@pytest.fixture
async def kometa(
    tmdb_server: CatalogServer, monkeypatch: pytest.MonkeyPatch, restored: None
) -> TMDbAPIs:
    """tmdbapis, constructed (it reads the six configuration lists) against the server."""
    monkeypatch.setattr(tmdbapis.api3, "base_url", tmdb_server.base_uri)
    return await in_thread(
        lambda: TMDbAPIs(tmdb_server.key, session=MarqueeSession(tmdb_server.url))
    )


def kometa_raw(server: CatalogServer, session_id: str, key: str | None = None) -> API3:
    """tmdbapis' raw v3 API class (public, documented) with a session."""
    session = MarqueeSession(server.url)
    return API3(key or server.key, session_id=session_id, session=session, validate=False)


class TestTmdbapis:
    async def test_authenticate_then_account_lists_rating_and_logout(
        self, kometa: TMDbAPIs, tmdb_server: CatalogServer
    ) -> None:
        await in_thread(lambda: kometa.authenticate(tmdb_server.email, tmdb_server.password))
        account = await in_thread(kometa.account)
        assert (account.id, account.username, account.iso_3166_1) == (
            tmdb_server.user_id,
            tmdb_server.email,
            "US",
        )
        assert kometa.account_id == tmdb_server.user_id

        avatar = kometa.movie(AVATAR, load=False)
        inception = kometa.movie(INCEPTION, load=False)
        await in_thread(avatar.add_to_watchlist)
        assert [m.id for m in (await in_thread(kometa.movie_watchlist)).results] == [AVATAR]
        await in_thread(avatar.remove_from_watchlist)
        assert (await in_thread(kometa.movie_watchlist)).total_results == 0

        await in_thread(inception.mark_as_favorite)
        assert [m.id for m in (await in_thread(kometa.favorite_movies)).results] == [INCEPTION]
        await in_thread(inception.remove_as_favorite)

        await in_thread(lambda: inception.rate(9.5))
        rated = await in_thread(kometa.rated_movies)
        assert [m.id for m in rated.results] == [INCEPTION]
        raw = kometa_raw(tmdb_server, kometa.session_id)
        states = await in_thread(lambda: raw.movies_get_account_states(INCEPTION))
        assert states == {
            "id": INCEPTION,
            "favorite": False,
            "rated": {"value": 9.5},
            "watchlist": False,
        }
        await in_thread(inception.delete_rating)
        assert (await in_thread(lambda: raw.movies_get_account_states(INCEPTION)))["rated"] is False

        await in_thread(kometa.logout)
        with pytest.raises(KometaError, match=r"\(3\) " + AUTH_FAILED):
            await in_thread(lambda: raw.account_get_details())

    async def test_a_wrong_password_raises_code_30(
        self, kometa: TMDbAPIs, tmdb_server: CatalogServer
    ) -> None:
        with pytest.raises(KometaError, match=r"\(30\) " + BAD_LOGIN):
            await in_thread(lambda: kometa.authenticate(tmdb_server.email, "not-my-password"))

    async def test_another_accounts_id_raises_code_3(
        self, kometa: TMDbAPIs, tmdb_server: CatalogServer
    ) -> None:
        await in_thread(lambda: kometa.authenticate(tmdb_server.email, tmdb_server.password))
        raw = kometa_raw(tmdb_server, kometa.session_id)
        other = tmdb_server.user_id + 1  # whether or not it exists: the same answer, no leak
        with pytest.raises(KometaError, match=r"\(3\) "):
            await in_thread(lambda: raw.account_get_favorite_movies(account_id=str(other)))
        await in_thread(kometa.logout)

    async def test_a_revoked_key_raises_unauthorized_and_its_sessions_stop(
        self, tmdb_server: CatalogServer, tmdb_settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(tmdbapis.api3, "base_url", tmdb_server.base_uri)
        key_id, key = await _committed_key(tmdb_settings, tmdb_server.user_id)
        client = await in_thread(lambda: TMDbAPIs(key, session=MarqueeSession(tmdb_server.url)))
        await in_thread(lambda: client.authenticate(tmdb_server.email, tmdb_server.password))
        assert (await in_thread(client.account)).id == tmdb_server.user_id
        await _revoke(tmdb_server, key_id)
        with pytest.raises(Unauthorized):
            await in_thread(client.account)


async def _committed_key(settings: Settings, user_id: int) -> tuple[int, str]:
    """A second key of the account, committed (the server sees it); revoked by its test and
    gone with the account at the end of the session."""
    engine = make_engine(settings.DATABASE_URL)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            row, key = await api_keys.create(session, user_id, "revoked in a test")
            await session.commit()
    finally:
        await engine.dispose()
    assert row.id is not None
    return row.id, key


async def _revoke(server: CatalogServer, key_id: int) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as http:
        login = {"username": server.email, "password": server.password}
        token = (await http.post("/auth/token", data=login)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (
            await http.delete(f"/users/me/api-keys/{key_id}", headers=headers)
        ).status_code == 204


# tmdbsimple -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def legacy_server(
    tmdb_server: CatalogServer, tmdb_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[CatalogServer]:
    """A second server on the same catalog with TMDB_COMPAT_LEGACY_GET_LOGIN on: tmdbsimple
    validates the login and makes the session with GET (its only forms)."""
    port, log = free_port(), tmp_path_factory.mktemp("uvicorn-legacy") / "uvicorn.log"
    with pytest.MonkeyPatch.context() as env:
        env.setenv(
            "TMDB_COMPAT_LEGACY_GET_LOGIN", "true"
        )  # read from the environment it starts with
        process = start_uvicorn(tmdb_settings, port, log)
    async with serving(process, port, log) as url:
        yield dataclasses.replace(tmdb_server, url=url, log=log)


@pytest.fixture
def simple(simple: CatalogServer, restored: None) -> CatalogServer:
    """tmdbsimple's module settings (tests.tmdb.clients), with what the test writes undone."""
    return simple


def simple_login(server: CatalogServer, password: str) -> str:
    """tmdbsimple's three calls: token_new, then its GET forms of the login and the session."""
    auth = pointed(tmdbsimple.Authentication(), server)
    token = auth.token_new()["request_token"]
    auth.token_validate_with_login(username=server.email, password=password, request_token=token)
    return str(auth.session_new(request_token=token)["session_id"])


class TestTmdbsimple:
    async def test_login_then_account_lists_rating_and_logout(
        self, simple: CatalogServer, legacy_server: CatalogServer
    ) -> None:
        session_id = await in_thread(lambda: simple_login(legacy_server, legacy_server.password))
        account = pointed(tmdbsimple.Account(session_id), legacy_server)
        assert (await in_thread(account.info))["id"] == legacy_server.user_id
        assert account.id == legacy_server.user_id  # account methods need it

        added = await in_thread(
            lambda: account.watchlist(media_type="movie", media_id=AVATAR, watchlist=True)
        )
        again = await in_thread(
            lambda: account.watchlist(media_type="movie", media_id=AVATAR, watchlist=True)
        )
        assert (added["status_code"], again["status_code"]) == (1, 12)
        assert [m["id"] for m in (await in_thread(account.watchlist_movies))["results"]] == [AVATAR]
        gone = await in_thread(
            lambda: account.watchlist(media_type="movie", media_id=AVATAR, watchlist=False)
        )
        assert gone["status_code"] == 13
        await in_thread(
            lambda: account.favorite(media_type="movie", media_id=INCEPTION, favorite=True)
        )
        assert [m["id"] for m in (await in_thread(account.favorite_movies))["results"]] == [
            INCEPTION
        ]
        await in_thread(
            lambda: account.favorite(media_type="movie", media_id=INCEPTION, favorite=False)
        )

        movie = pointed(tmdbsimple.Movies(INCEPTION), legacy_server)
        assert (await in_thread(lambda: movie.rating(session_id=session_id, value=7.5)))[
            "status_code"
        ] == 1
        rated = (await in_thread(account.rated_movies))["results"]
        assert [(m["id"], m["rating"]) for m in rated] == [(INCEPTION, 7.5)]
        states = await in_thread(lambda: movie.account_states(session_id=session_id))
        assert states == {
            "id": INCEPTION,
            "favorite": False,
            "rated": {"value": 7.5},
            "watchlist": False,
        }
        assert (await in_thread(lambda: movie.rating_delete(session_id=session_id)))[
            "status_code"
        ] == 13

        auth = pointed(tmdbsimple.Authentication(), legacy_server)
        assert (await in_thread(lambda: auth.session_delete(session_id=session_id)))[
            "success"
        ] is True
        response = await in_thread(lambda: refused(account.info))
        assert (response.status_code, response.json()["status_code"]) == (401, 3)

    async def test_a_wrong_password_raises_with_code_30(
        self, simple: CatalogServer, legacy_server: CatalogServer
    ) -> None:
        response = await in_thread(lambda: refused(lambda: simple_login(legacy_server, "no-no-no")))
        assert (response.status_code, response.json()["status_code"]) == (401, 30)

    async def test_a_session_works_once_per_token(
        self, simple: CatalogServer, legacy_server: CatalogServer
    ) -> None:
        auth = pointed(tmdbsimple.Authentication(), legacy_server)
        token = (await in_thread(auth.token_new))["request_token"]
        login = {
            "username": legacy_server.email,
            "password": legacy_server.password,
            "request_token": token,
        }
        await in_thread(lambda: auth.token_validate_with_login(**login))
        session_id = (await in_thread(lambda: auth.session_new(request_token=token)))["session_id"]
        response = await in_thread(lambda: refused(lambda: auth.session_new(request_token=token)))
        assert (response.status_code, response.json()["status_message"]) == (401, INVALID_TOKEN)
        await in_thread(lambda: auth.session_delete(session_id=session_id))

    async def test_the_legacy_forms_are_off_by_default(
        self, simple: CatalogServer, tmdb_server: CatalogServer
    ) -> None:
        response = await in_thread(
            lambda: refused(lambda: simple_login(tmdb_server, tmdb_server.password))
        )
        assert (response.status_code, response.json()["status_code"]) == (405, 42)

    async def test_a_session_made_through_legacy_forms_works_on_any_server(
        self, simple: CatalogServer, legacy_server: CatalogServer, tmdb_server: CatalogServer
    ) -> None:
        session_id = await in_thread(lambda: simple_login(legacy_server, legacy_server.password))
        account = pointed(tmdbsimple.Account(session_id), tmdb_server)
        assert (await in_thread(account.info))["id"] == tmdb_server.user_id
        auth = pointed(tmdbsimple.Authentication(), tmdb_server)
        await in_thread(lambda: auth.session_delete(session_id=session_id))
