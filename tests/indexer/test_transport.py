"""Searches through make_client's connection pool (indexer.transport): against a real
Meilisearch, and against a scripted HTTP server for closed, half-closed, chunked, compressed,
slow and failed answers, TLS and proxy settings from the environment, and the pool's bound."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from meilisearch_python_sdk import AsyncClient

from indexer import (
    SearchFailed,
    SearchUnavailable,
    ensure_settings,
    make_client,
    search_movies,
    upsert,
)
from indexer.client import MeiliClient
from tests.indexer.corpus import DOCUMENTS
from tests.meili_fixtures import MeiliServer

ANSWER = json.dumps({"hits": [{"id": 1, "title": "Heat", "genre_ids": [], "genres": []}],
                     "totalHits": 1, "facetDistribution": {}}).encode()  # fmt: skip
# Turns a hang into a failure; not a timing: every outcome asserted comes well before it.
GUARD = 10.0
PROXY_VARIABLES = ["http_proxy", "https_proxy", "all_proxy", "no_proxy"]

Reply = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


def head(status: str = "200 OK", **fields: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", "content-type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in fields.items()]
    return "\r\n".join(lines).encode() + b"\r\n\r\n"


def chunks(body: bytes) -> bytes:
    half = len(body) // 2
    parts = [p for p in (body[:half], body[half:]) if p]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def sends(raw: bytes, keep: bool = True) -> Reply:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        return keep

    return reply


PLAIN = sends(head(content_length=str(len(ANSWER))) + ANSWER)
CHUNKED = sends(head(transfer_encoding="chunked") + chunks(ANSWER))
GZIP_CHUNKED = sends(
    head(content_encoding="gzip", transfer_encoding="chunked") + chunks(gzip.compress(ANSWER))
)
GZIP_TRANSFER = sends(head(transfer_encoding="gzip, chunked") + chunks(gzip.compress(ANSWER)))


async def close_unanswered(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    return False


async def half_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Shut our side (FIN) without answering; keep reading until the client gives up."""
    writer.write_eof()
    await reader.read()
    return False


async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """An answer without length, ended by shutting our side."""
    writer.write(head() + ANSWER)
    writer.write_eof()
    await reader.read()
    return False


async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """The head at once, then the body a byte at a time: each read answers, the whole never."""
    writer.write(head(content_length=str(len(ANSWER))))
    for byte in ANSWER:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.2)
    return True


def status(code: int, reason: str, error: dict[str, str]) -> Reply:
    body = json.dumps(error).encode()
    return sends(head(f"{code} {reason}", content_length=str(len(body))) + body)


def delayed(reply: Reply, seconds: float) -> Reply:
    async def later(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(seconds)
        return await reply(reader, writer)

    return later


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One whole request (head and body), or None once the client closed."""
    try:
        start = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    fields = {}
    for line in start.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    return start + await reader.readexactly(int(fields.get(b"content-length") or 0))


@dataclass
class Scripted:
    """Answers requests with `replies` in turn (the last one again and again)."""

    replies: list[Reply] = field(default_factory=lambda: [PLAIN])
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    busy: int = 0
    most_busy: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while (request := await read_request(reader)) is not None:
                reply = self.replies[min(len(self.requests), len(self.replies) - 1)]
                self.requests.append(request)
                self.busy += 1
                self.most_busy = max(self.most_busy, self.busy)
                try:
                    if not await reply(reader, writer):
                        break
                finally:
                    self.busy -= 1
        except ConnectionError:
            pass
        finally:
            writer.close()


@dataclass
class Served:
    script: Scripted
    url: str


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    script = Scripted()
    server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
    yield Served(script, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
    server.close()
    await server.wait_closed()


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


@pytest.fixture
async def client(
    served: Served, no_proxy_settings: pytest.MonkeyPatch
) -> AsyncIterator[MeiliClient]:
    meili = make_client(served.url, "key", timeout=1.0)
    yield meili
    await meili.aclose()


async def search(client: AsyncClient) -> list[int]:
    async with asyncio.timeout(GUARD):
        page = await search_movies(client, "movies", "heat", None, None, 1, 20)
    return [hit["id"] for hit in page.hits]


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class TestAnswers:
    async def test_a_search_goes_through_the_pool_in_one_write(
        self, served: Served, client: MeiliClient
    ) -> None:
        assert client.searches is not None
        assert await search(client) == [1]
        start, _, body = served.script.requests[0].partition(b"\r\n\r\n")
        lines = start.lower().split(b"\r\n")
        assert lines[0] == b"post /indexes/movies/search http/1.1"
        assert b"authorization: bearer key" in lines
        assert b"accept-encoding: identity" in lines
        assert json.loads(body)["q"] == "heat"

    async def test_one_connection_serves_successive_searches(
        self, served: Served, client: MeiliClient
    ) -> None:
        for _ in range(3):
            assert await search(client) == [1]
        assert served.script.connections == 1

    async def test_a_chunked_answer_is_read_and_the_connection_kept(
        self, served: Served, client: MeiliClient
    ) -> None:
        served.script.replies = [CHUNKED]
        assert await search(client) == [1]
        assert await search(client) == [1]
        assert served.script.connections == 1

    async def test_a_gzipped_chunked_answer_is_decoded(
        self, served: Served, client: MeiliClient
    ) -> None:
        served.script.replies = [GZIP_CHUNKED]
        assert await search(client) == [1]
        assert await search(client) == [1]

    async def test_gzip_as_a_transfer_coding_is_decoded(
        self, served: Served, client: MeiliClient
    ) -> None:
        served.script.replies = [GZIP_TRANSFER]
        assert await search(client) == [1]

    async def test_an_answer_ended_by_a_half_close_is_read(
        self, served: Served, client: MeiliClient
    ) -> None:
        served.script.replies = [until_close]
        assert await search(client) == [1]
        assert await search(client) == [1]
        assert served.script.connections == 2

    async def test_connection_close_is_honoured(self, served: Served, client: MeiliClient) -> None:
        body = head(content_length=str(len(ANSWER)), connection="close") + ANSWER
        served.script.replies = [sends(body, keep=False)]
        assert await search(client) == [1]
        assert await search(client) == [1]
        assert served.script.connections == 2


class TestClosedConnections:
    async def test_a_connection_closed_while_idle_is_not_used_again(
        self, served: Served, client: MeiliClient
    ) -> None:
        served.script.replies = [sends(head(content_length=str(len(ANSWER))) + ANSWER, False)]
        assert await search(client) == [1]
        assert await search(client) == [1]
        assert served.script.connections == 2

    async def test_a_search_closed_unanswered_is_sent_once_more(
        self, served: Served, client: MeiliClient
    ) -> None:
        served.script.replies = [close_unanswered, PLAIN]
        assert await search(client) == [1]
        assert served.script.connections == 2

    async def test_closed_unanswered_twice_is_unavailable(
        self, served: Served, client: MeiliClient
    ) -> None:
        served.script.replies = [close_unanswered]
        with pytest.raises(SearchUnavailable):
            await search(client)
        assert len(served.script.requests) == 2

    async def test_a_half_closed_connection_is_unavailable_not_a_hang(
        self, served: Served, client: MeiliClient
    ) -> None:
        served.script.replies = [half_close]
        with pytest.raises(SearchUnavailable):
            await search(client)
        assert len(served.script.requests) == 2


class TestFailures:
    async def test_an_answer_slower_than_the_timeout_is_unavailable(
        self, served: Served, no_proxy_settings: pytest.MonkeyPatch
    ) -> None:
        served.script.replies = [slow]
        impatient = make_client(served.url, "key", timeout=0.5)
        try:
            with pytest.raises(SearchUnavailable):
                await search(impatient)
        finally:
            await impatient.aclose()

    async def test_a_5xx_is_unavailable(self, served: Served, client: MeiliClient) -> None:
        error = {"message": "down", "code": "internal", "type": "internal", "link": ""}
        served.script.replies = [status(503, "Service Unavailable", error)]
        with pytest.raises(SearchUnavailable, match="503"):
            await search(client)

    async def test_a_4xx_is_a_failed_request(self, served: Served, client: MeiliClient) -> None:
        error = {"message": "no", "code": "index_not_found", "type": "invalid_request", "link": ""}
        served.script.replies = [status(404, "Not Found", error)]
        with pytest.raises(SearchFailed, match="index_not_found"):
            await search(client)

    async def test_an_unreadable_answer_is_unavailable(
        self, served: Served, client: MeiliClient
    ) -> None:
        served.script.replies = [sends(b"HTTP/1.1 two hundred\r\n\r\n")]
        with pytest.raises(SearchUnavailable):
            await search(client)


class TestPool:
    async def test_more_searches_than_connections_all_complete(
        self, served: Served, no_proxy_settings: pytest.MonkeyPatch
    ) -> None:
        served.script.replies = [delayed(PLAIN, 0.01)]
        small = make_client(served.url, "key", timeout=5.0, max_connections=2)
        try:
            pages = await asyncio.gather(*(search(small) for _ in range(12)))
        finally:
            await small.aclose()
        assert pages == [[1]] * 12
        assert served.script.most_busy <= 2
        assert served.script.connections <= 2


class TestEnvironment:
    async def test_a_proxy_from_the_environment_carries_searches(
        self, served: Served, no_proxy_settings: pytest.MonkeyPatch
    ) -> None:
        no_proxy_settings.setenv("HTTP_PROXY", served.url)
        proxied = make_client("http://meili.invalid:7700", "key", timeout=1.0)
        try:
            assert proxied.searches is None
            assert await search(proxied) == [1]
        finally:
            await proxied.aclose()
        target = served.script.requests[0].split(b"\r\n", 1)[0]
        assert target == b"POST http://meili.invalid:7700/indexes/movies/search HTTP/1.1"

    async def test_no_proxy_leaves_searches_direct(
        self, served: Served, no_proxy_settings: pytest.MonkeyPatch
    ) -> None:
        no_proxy_settings.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        no_proxy_settings.setenv("NO_PROXY", "127.0.0.1")
        direct = make_client(served.url, "key", timeout=1.0)
        try:
            assert direct.searches is not None
            assert await search(direct) == [1]
        finally:
            await direct.aclose()

    async def test_tls_trusts_the_certificates_the_environment_names(
        self, certificate: tuple[Path, Path], no_proxy_settings: pytest.MonkeyPatch
    ) -> None:
        cert, key = certificate
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        script = Scripted()
        server = await asyncio.start_server(script.handle, "127.0.0.1", 0, ssl=context)
        url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        try:
            untrusting = make_client(url, "key", timeout=1.0)
            with pytest.raises(SearchUnavailable):
                await search(untrusting)
            await untrusting.aclose()
            no_proxy_settings.setenv("SSL_CERT_FILE", str(cert))
            trusting = make_client(url, "key", timeout=1.0)
            assert await search(trusting) == [1]
            await trusting.aclose()
        finally:
            server.close()
            await server.wait_closed()


class TestRealMeilisearch:
    async def test_searches_go_through_the_pool(self, meili_index: tuple[AsyncClient, str]) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)
        await upsert(client, uid, DOCUMENTS)
        assert isinstance(client, MeiliClient) and client.searches is not None

        page = await search_movies(client, uid, "", None, None, 1, 100)

        assert page.total == len(DOCUMENTS)

    async def test_more_searches_than_connections_all_complete(
        self, meili_server: MeiliServer, meili_index: tuple[AsyncClient, str]
    ) -> None:
        admin, uid = meili_index
        await ensure_settings(admin, uid)
        await upsert(admin, uid, DOCUMENTS)
        small = make_client(meili_server.url, meili_server.master_key, 10.0, max_connections=3)
        try:
            async with asyncio.timeout(GUARD):
                pages = await asyncio.gather(
                    *(search_movies(small, uid, "", None, None, 1, 5) for _ in range(20))
                )
        finally:
            await small.aclose()
        assert [page.total for page in pages] == [len(DOCUMENTS)] * 20
