"""Request size limits: 413 for a body over the limit, however framed; 422s list few errors."""

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from fastapi import Request
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.handlers import MAX_LISTED_ERRORS
from api.limits import BodyTooLarge
from api.main import create_app
from api.settings import Settings
from api.users.models import User
from tests.conftest import Account

CHUNK = 64 * 1024


def registration() -> dict[str, str]:
    email = f"limits-{uuid.uuid4().hex[:10]}@example.com"
    return {"email": email, "password": "correct horse battery", "display_name": "Big"}


def padded(body: dict[str, Any], size: int) -> bytes:
    """`body` as JSON, padded with trailing spaces (still valid JSON) to exactly `size` bytes."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


async def in_chunks(data: bytes, size: int = CHUNK) -> AsyncIterator[bytes]:
    """A streamed body: httpx sends it chunked, with no Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def users_named(db: AsyncSession, email: str) -> int:
    stmt = select(func.count()).select_from(User).where(col(User.email) == email)
    return (await db.execute(stmt)).scalar_one()


def assert_refused(response: Any, settings: Settings) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": f"Request body too large: the limit is {settings.MAX_BODY_BYTES} bytes",
        "code": "payload_too_large",
    }


class TestBodyLimit:
    async def test_content_length_over_the_limit_answers_413_and_creates_nothing(
        self, client: AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        body = registration()
        content = padded(body, settings.MAX_BODY_BYTES + 1)
        response = await client.post(
            "/auth/register", content=content, headers={"Content-Type": "application/json"}
        )
        assert_refused(response, settings)
        assert await users_named(db, body["email"]) == 0

    async def test_chunked_body_over_the_limit_answers_413_and_creates_nothing(
        self, client: AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        body = registration()
        content = in_chunks(padded(body, settings.MAX_BODY_BYTES + 1))
        response = await client.post(
            "/auth/register", content=content, headers={"Content-Type": "application/json"}
        )
        assert "content-length" not in response.request.headers
        assert_refused(response, settings)
        assert await users_named(db, body["email"]) == 0

    async def test_body_exactly_at_the_limit_reaches_the_route(
        self, client: AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        body = registration()
        content = padded(body, settings.MAX_BODY_BYTES)
        response = await client.post(
            "/auth/register", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 201, response.text
        assert await users_named(db, body["email"]) == 1

    async def test_chunked_body_exactly_at_the_limit_reaches_the_route(
        self, client: AsyncClient, db: AsyncSession, settings: Settings
    ) -> None:
        body = registration()
        content = in_chunks(padded(body, settings.MAX_BODY_BYTES))
        response = await client.post(
            "/auth/register", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 201, response.text
        assert await users_named(db, body["email"]) == 1

    async def test_oversized_body_is_refused_whatever_the_route(
        self, client: AsyncClient, settings: Settings
    ) -> None:
        # A route that reads no body, and one that would first refuse the anonymous caller.
        content = b"x" * (settings.MAX_BODY_BYTES + 1)
        for method, path in (("GET", "/genres"), ("POST", "/movies/")):
            response = await client.request(method, path, content=content)
            assert_refused(response, settings)

    async def test_a_route_that_swallows_the_refusal_gets_no_more_of_the_body(
        self, settings: Settings
    ) -> None:
        app = create_app(settings.model_copy(update={"MAX_BODY_BYTES": 1000}))

        async def greedy(request: Request) -> dict[str, int]:
            received = refusals = 0
            for _ in range(5):  # more reads than the body has chunks
                try:
                    message = await request.receive()
                except BodyTooLarge:
                    refusals += 1
                    continue
                received += len(message.get("body", b""))
            return {"received": received, "refusals": refusals}

        app.add_api_route("/greedy", greedy, methods=["POST"])
        async with AsyncClient(transport=ASGITransport(app), base_url="http://test") as http:
            response = await http.post("/greedy", content=in_chunks(b"x" * 2000, size=400))
        # Two chunks fit (800 bytes); the third passes the limit and every read after it fails.
        assert response.json() == {"received": 800, "refusals": 3}


class TestValidationErrors:
    async def test_a_thousand_unknown_fields_answer_one_error(self, client: AsyncClient) -> None:
        body: dict[str, Any] = registration()
        body.update({f"extra_{n}": n for n in range(1000)})
        response = await client.post("/auth/register", json=body)
        assert response.status_code == 422
        answer = response.json()
        assert answer["code"] == "validation_error" and "errors_truncated" not in answer
        [error] = answer["errors"]
        assert error["loc"] == ["body"] and error["msg"].endswith("and 995 more")

    async def test_hundreds_of_bad_items_list_at_most_20_errors(
        self, client: AsyncClient, admin: Account
    ) -> None:
        cast = [{"person_id": "not a number"} for _ in range(400)]  # the most a body takes: 500
        response = await client.post(
            "/movies", json={"title": "Many Errors", "cast": cast}, headers=admin.headers
        )
        assert response.status_code == 422
        answer = response.json()
        assert set(answer) == {"detail", "code", "errors", "errors_truncated"}
        assert len(answer["errors"]) == MAX_LISTED_ERRORS == 20
        assert answer["errors_truncated"] == 400 - 20

    async def test_a_few_errors_are_all_listed(self, client: AsyncClient) -> None:
        response = await client.post("/auth/register", json={"email": "x"})
        assert response.status_code == 422
        answer = response.json()
        assert "errors_truncated" not in answer
        assert {tuple(error["loc"]) for error in answer["errors"]} == {
            ("body", "email"),
            ("body", "password"),
        }


@pytest.fixture
async def live_port(settings: Settings) -> AsyncIterator[int]:
    """The app behind a real uvicorn (httptools, as in production) on a free port, in a thread
    with its own event loop. No lifespan: nothing here reaches the database."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    async with asyncio.timeout(10):
        while not server.started:
            assert thread.is_alive(), "uvicorn did not start"
            await asyncio.sleep(0.01)
    yield port
    server.should_exit = True
    await asyncio.to_thread(thread.join, 10)
    sock.close()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class TestRealServer:
    async def test_chunked_oversized_body_gets_413_while_other_requests_are_served(
        self, live_port: int, settings: Settings
    ) -> None:
        async with asyncio.timeout(30):
            reader, writer = await asyncio.open_connection("127.0.0.1", live_port)
            writer.write(
                b"POST /auth/register HTTP/1.1\r\nHost: test\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            half = settings.MAX_BODY_BYTES // 2
            writer.write(b"".join(chunk(b" " * CHUNK) for _ in range(half // CHUNK)))
            await writer.drain()

            # The oversized request is open, its route waiting for the rest of the body.
            async with AsyncClient(base_url=f"http://127.0.0.1:{live_port}") as http:
                health = await http.get("/health")
            assert health.status_code == 200

            # The rest up to the limit, then one byte more; no final chunk: the body never ends.
            writer.write(b"".join(chunk(b" " * CHUNK) for _ in range(half // CHUNK)))
            writer.write(chunk(b" "))
            await writer.drain()
            raw = await reader.read()  # to EOF: the server closes after a 413
            writer.close()

        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413 "), head
        assert b"connection: close" in head.lower()
        assert json.loads(body)["code"] == "payload_too_large"

    async def test_a_client_sending_12_mb_reads_its_413(
        self, live_port: int, settings: Settings
    ) -> None:
        # 12 MB with a Content-Length: refused unread, the rest discarded, so the client (which
        # sends all of it before reading) gets the answer instead of a reset connection.
        body = b"{" + b" " * (12 * 1024 * 1024) + b"}"
        async with AsyncClient(base_url=f"http://127.0.0.1:{live_port}", timeout=60) as http:
            for _ in range(2):  # and the connection serves the next request
                response = await http.post(
                    "/auth/register", content=body, headers={"Content-Type": "application/json"}
                )
                assert response.status_code == 413
                assert response.json()["code"] == "payload_too_large"
