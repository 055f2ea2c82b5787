"""The client: no compressed answers, the search key, and transport errors translated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx2
import pytest
from meilisearch_python_sdk import AsyncClient

from devstack.servers import free_port
from indexer import (
    MovieFilters,
    SearchFailed,
    SearchUnavailable,
    default_search_key,
    ensure_settings,
    make_client,
    search_movies,
    upsert,
)
from indexer.errors import translate
from tests.indexer.corpus import DOCUMENTS
from tests.meili_fixtures import MeiliServer

# A guard against hanging, not a benchmark: failures must surface in about a second.
FAST = 3.0


@pytest.fixture
async def offline() -> AsyncIterator[AsyncClient]:
    """A client pointed at a port nobody listens on."""
    client = make_client(f"http://127.0.0.1:{free_port()}", "key", timeout=1.0)
    yield client
    await client.aclose()


@pytest.fixture
async def silent() -> AsyncIterator[AsyncClient]:
    """A client pointed at a server that accepts connections and never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", "key", timeout=0.5)
    yield client
    await client.aclose()
    server.close()


class TestMakeClient:
    async def test_refuses_compressed_answers(self, meili_index: tuple[AsyncClient, str]) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)
        await upsert(client, uid, DOCUMENTS)

        response = await client.http_client.post(f"indexes/{uid}/search", json={"limit": 50})

        assert client.http_client.headers["accept-encoding"] == "identity"
        assert response.request.headers["accept-encoding"] == "identity"
        assert "content-encoding" not in response.headers
        assert len(response.json()["hits"]) == len(DOCUMENTS)

    async def test_a_client_not_made_here_searches_through_httpx(
        self, meili_server: MeiliServer, meili_index: tuple[AsyncClient, str]
    ) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)
        await upsert(client, uid, DOCUMENTS)
        plain = AsyncClient(meili_server.url, meili_server.master_key)
        try:
            page = await search_movies(plain, uid, "", None, None, 1, 100)
            assert page.total == len(DOCUMENTS)
            with pytest.raises(SearchFailed, match="index_not_found"):
                await search_movies(plain, f"{uid}_missing", "", None, None, 1, 10)
        finally:
            await plain.aclose()


class TestDefaultSearchKey:
    async def test_key_searches_but_cannot_write(
        self, meili_server: MeiliServer, meili_index: tuple[AsyncClient, str]
    ) -> None:
        admin, uid = meili_index
        await ensure_settings(admin, uid)

        key = await default_search_key(admin)

        searcher = make_client(meili_server.url, key, timeout=5.0)
        page = await search_movies(searcher, uid, "", None, None, 1, 10)
        assert page.total == 0
        with pytest.raises(SearchFailed, match="403"):
            await upsert(searcher, uid, DOCUMENTS[:1])
        await searcher.aclose()


class TestErrorTranslation:
    async def test_closed_port_search_is_unavailable(self, offline: AsyncClient) -> None:
        async with asyncio.timeout(FAST):
            with pytest.raises(SearchUnavailable):
                await search_movies(offline, "movies", "matrix", MovieFilters(), None, 1, 20)

    async def test_closed_port_writes_are_unavailable(self, offline: AsyncClient) -> None:
        async with asyncio.timeout(FAST):
            with pytest.raises(SearchUnavailable):
                await upsert(offline, "movies", DOCUMENTS[:1])
            with pytest.raises(SearchUnavailable):
                await ensure_settings(offline, "movies")
            with pytest.raises(SearchUnavailable):
                await default_search_key(offline)

    async def test_server_that_never_answers_times_out_as_unavailable(
        self, silent: AsyncClient
    ) -> None:
        async with asyncio.timeout(FAST):
            with pytest.raises(SearchUnavailable):
                await search_movies(silent, "movies", "matrix", None, None, 1, 20)

    async def test_missing_index_is_a_failed_request(
        self, meili_index: tuple[AsyncClient, str]
    ) -> None:
        client, uid = meili_index

        with pytest.raises(SearchFailed, match="index_not_found"):
            await search_movies(client, uid, "matrix", None, None, 1, 20)

    async def test_wrong_key_is_a_failed_request(self, meili_server: MeiliServer) -> None:
        client = make_client(meili_server.url, "not-the-key", timeout=5.0)

        with pytest.raises(SearchFailed, match="403"):
            await search_movies(client, "movies", "", None, None, 1, 20)
        await client.aclose()

    @pytest.mark.parametrize(
        ("status", "expected"),
        [(500, SearchUnavailable), (503, SearchUnavailable), (400, SearchFailed)],
    )
    def test_status_without_json_body_is_classified(
        self, status: int, expected: type[Exception]
    ) -> None:
        request = httpx2.Request("GET", "http://meili/health")
        response = httpx2.Response(status, request=request, text="upstream error")
        err = httpx2.HTTPStatusError("bad status", request=request, response=response)

        assert isinstance(translate(err), expected)
