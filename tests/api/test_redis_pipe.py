"""The pipelined Redis connection of cache lookups, against the real Redis: replies reach their
callers, errors and outages raise PipeError quickly, and a lost connection is reopened."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from api.redis_pipe import PipeError, RedisPipe, pack
from tests.conftest import TEST_REDIS_URL


@pytest.fixture
async def pipe() -> AsyncIterator[RedisPipe]:
    pipe = RedisPipe(TEST_REDIS_URL, timeout=0.5)
    yield pipe
    await pipe.aclose()


class TestPack:
    def test_a_command_is_an_array_of_bulk_strings(self) -> None:
        assert pack(("GET", b"k\r\n", 7)) == b"*3\r\n$3\r\nGET\r\n$3\r\nk\r\n\r\n$1\r\n7\r\n"


class TestRedisPipe:
    async def test_concurrent_calls_each_get_their_own_reply(self, pipe: RedisPipe) -> None:
        replies = await asyncio.gather(*(pipe.call("ECHO", f"m{i}") for i in range(300)))
        assert replies == [f"m{i}".encode() for i in range(300)]

    async def test_it_uses_the_database_of_the_url(self, pipe: RedisPipe) -> None:
        redis = Redis.from_url(TEST_REDIS_URL)
        try:
            await pipe.call("SET", "pipe:test:db", "here")
            assert await redis.get("pipe:test:db") == b"here"
        finally:
            await redis.delete("pipe:test:db")
            await redis.aclose()

    async def test_an_error_reply_raises_and_the_next_call_works(self, pipe: RedisPipe) -> None:
        with pytest.raises(PipeError, match="unknown command"):
            await pipe.call("NO-SUCH-COMMAND")
        assert await pipe.call("PING") == b"PONG"

    async def test_a_lost_connection_is_reopened(self, pipe: RedisPipe) -> None:
        client_id = await pipe.call("CLIENT", "ID")
        redis = Redis.from_url(TEST_REDIS_URL)
        try:
            await redis.client_kill_filter(_id=client_id)
        finally:
            await redis.aclose()
        await asyncio.sleep(0.05)
        assert await pipe.call("PING") == b"PONG"
        assert await pipe.call("CLIENT", "ID") != client_id

    async def test_unreachable_redis_fails_fast_and_then_at_once(self) -> None:
        pipe = RedisPipe("redis://127.0.0.1:9/0", timeout=0.5)
        loop = asyncio.get_running_loop()
        for _ in range(2):
            started = loop.time()
            with pytest.raises(PipeError, match="cannot reach|unreachable"):
                await pipe.call("PING")
            assert loop.time() - started < 0.6
        await pipe.aclose()

    async def test_a_silent_server_times_out(self) -> None:
        async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(-1)
            writer.close()

        server = await asyncio.start_server(swallow, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pipe = RedisPipe(f"redis://127.0.0.1:{port}/0", timeout=0.2)
        try:
            with pytest.raises(PipeError, match="no answer"):
                await asyncio.wait_for(pipe.call("PING"), timeout=2)
        finally:
            await pipe.aclose()
            server.close()
            await server.wait_closed()

    def test_a_unix_socket_url_is_refused(self) -> None:
        with pytest.raises(ValueError):
            RedisPipe("unix:///tmp/redis.sock", timeout=0.5)
