"""The one-write search transport, against a scripted HTTP server: whole requests, kept-alive
connections, chunked answers, and a search re-sent when an idle connection was closed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from meilisearch_python_sdk import AsyncClient

from indexer import make_client, search_movies
from indexer.transport import SearchTransport

ANSWER = json.dumps({"hits": [{"id": 1, "title": "Heat", "genre_ids": [], "genres": []}],
                     "totalHits": 1, "facetDistribution": {}}).encode()  # fmt: skip


def plain(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
    return head.encode() + b"\r\n\r\n" + body


def chunked(body: bytes) -> bytes:
    half = len(body) // 2
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:half], body[half:]))
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked"
    return head + b"\r\n\r\n" + chunks + b"0\r\n\r\n"


@dataclass
class Scripted:
    """Answers each request with `reply(body)`; closes a connection after `per_connection`."""

    reply: Callable[[bytes], bytes] = plain
    per_connection: int = 1000
    connections: int = 0
    first_reads: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        for _ in range(self.per_connection):
            first = await reader.read(65536)
            if not first:
                break
            self.first_reads.append(first)
            writer.write(self.reply(ANSWER))
        writer.close()


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Scripted, AsyncClient]]:
    script = Scripted()
    server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
    client = make_client(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", "key", 2.0)
    yield script, client
    await client.aclose()
    server.close()


async def search(client: AsyncClient) -> list[int]:
    page = await search_movies(client, "movies", "heat", None, None, 1, 20)
    return [hit["id"] for hit in page.hits]


class TestSearchTransport:
    async def test_the_client_sends_searches_through_it(
        self, scripted: tuple[Scripted, AsyncClient]
    ) -> None:
        _, client = scripted
        assert isinstance(client.http_client._transport, SearchTransport)

    async def test_a_request_arrives_whole_in_one_read(
        self, scripted: tuple[Scripted, AsyncClient]
    ) -> None:
        script, client = scripted
        assert await search(client) == [1]
        head, _, body = script.first_reads[0].partition(b"\r\n\r\n")
        assert head.startswith(b"POST /indexes/movies/search HTTP/1.1")
        assert b"authorization: bearer key" in head.lower()
        assert json.loads(body)["q"] == "heat"

    async def test_one_connection_serves_successive_searches(
        self, scripted: tuple[Scripted, AsyncClient]
    ) -> None:
        script, client = scripted
        for _ in range(3):
            assert await search(client) == [1]
        assert script.connections == 1

    async def test_a_chunked_answer_is_read(self, scripted: tuple[Scripted, AsyncClient]) -> None:
        script, client = scripted
        script.reply = chunked
        assert await search(client) == [1]
        assert await search(client) == [1]
        assert script.connections == 1

    async def test_a_search_on_a_connection_closed_while_idle_is_sent_again(
        self, scripted: tuple[Scripted, AsyncClient]
    ) -> None:
        script, client = scripted
        script.per_connection = 1
        assert await search(client) == [1]
        await asyncio.sleep(0.05)  # the server has closed the kept connection by now
        assert await search(client) == [1]
        assert script.connections == 2
