"""A real TMDB client against a real Marquee: tmdbsimple (requests, from PyPI) pointed at a
uvicorn server on a free port exactly as TMDB_V3.md section 2 says (`base_uri` per object).
Its data is committed (the server has connections of its own) and removed at the end."""

import pytest
import tmdbsimple as tmdb

from tests.tmdb.live import CatalogServer, Server, in_thread, pointed, read_log, refused


@pytest.fixture
def client_settings(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """tmdbsimple's module settings for this test: the key, a timeout, ?api_key= auth."""
    monkeypatch.setattr(tmdb, "API_KEY", server.key)
    monkeypatch.setattr(tmdb, "REQUESTS_TIMEOUT", 10)
    monkeypatch.setattr(tmdb, "USE_BEARER_AUTH", False)
    return server


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


class TestOnTheTmdbCatalog:
    async def test_genres_carry_tmdbs_own_ids(
        self, tmdb_server: CatalogServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(tmdb, "API_KEY", tmdb_server.key)
        genres = pointed(tmdb.Genres(), tmdb_server)
        body = await in_thread(genres.movie_list)
        listed = {g["name"]: g["id"] for g in body["genres"]}
        assert listed["Action"] == 28
        assert listed["Science Fiction"] == 878
