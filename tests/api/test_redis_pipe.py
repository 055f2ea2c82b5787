"""The connection cache lookups share, against a Redis of the test's own that it kills, hangs and
starts again: every caller gets its own reply, also when others gave up on theirs; outages fail
quickly and pass; the URL is read as redis-py reads it; the queue is bounded."""

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection
from redis.exceptions import RedisError, ResponseError

from api.cache import Cache
from api.redis_pipe import PipeError, RedisPipe
from devstack.servers import Controlled, controlled_redis, free_port

# Bounds that turn a hang into a failure; nothing here is expected to come near them.
HANG = 10.0
TIMEOUT = 0.3


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Controlled]:
    redis = controlled_redis(tmp_path / "redis")
    yield redis
    redis.stop()


@pytest.fixture
async def pipe(server: Controlled) -> AsyncIterator[RedisPipe]:
    pipe = RedisPipe(f"{server.url}/0", timeout=TIMEOUT)
    yield pipe
    await pipe.aclose()


async def call(pipe: RedisPipe, *args: Any) -> Any:
    return await asyncio.wait_for(pipe.call(*args), HANG)


async def ask(pipe: RedisPipe, *args: Any) -> Any:
    """A caller, as a task that can be cancelled."""
    return await pipe.call(*args)


async def eventually(attempt: Callable[[], Awaitable[Any]]) -> Any:
    """The first result of `attempt` that is not a RedisError, trying again for up to HANG s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG
    while True:
        try:
            return await attempt()
        except RedisError:
            assert loop.time() < deadline, f"still failing after {HANG} s"
            await asyncio.sleep(0.1)


class TestReplies:
    async def test_concurrent_calls_each_get_their_own_reply(self, pipe: RedisPipe) -> None:
        replies = await asyncio.gather(*(call(pipe, "ECHO", f"m{i}") for i in range(300)))
        assert replies == [f"m{i}".encode() for i in range(300)]

    async def test_callers_that_give_up_mid_request_shift_no_reply(self, pipe: RedisPipe) -> None:
        assert await call(pipe, "PING") == b"PONG"  # connected: the next batch goes out at once
        big = "x" * 50_000  # replies long enough to arrive over many reads
        tasks = [asyncio.create_task(ask(pipe, "ECHO", f"{i}:{big}")) for i in range(200)]
        await asyncio.sleep(0)  # the calls are queued
        await asyncio.sleep(0)  # and written: their replies are on their way
        for task in tasks[::3]:
            task.cancel()
        assert await asyncio.wait_for(tasks[1], HANG) == f"1:{big}".encode()
        for task in tasks[5::5]:  # while the replies are being read
            task.cancel()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), HANG)
        given_up = [i for i, task in enumerate(tasks) if task.cancelled()]
        assert set(range(0, 200, 3)) <= set(given_up) and len(given_up) < 200
        for i, task in enumerate(tasks):
            if not task.cancelled():
                assert task.result() == f"{i}:{big}".encode()
        later = await asyncio.gather(*(call(pipe, "ECHO", f"later{i}") for i in range(50)))
        assert later == [f"later{i}".encode() for i in range(50)]

    async def test_a_caller_cancelled_while_connecting_leaves_the_others_theirs(
        self, pipe: RedisPipe
    ) -> None:
        tasks = [asyncio.create_task(ask(pipe, "ECHO", f"m{i}")) for i in range(10)]
        await asyncio.sleep(0)
        tasks[0].cancel()
        done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), HANG)
        assert isinstance(done[0], asyncio.CancelledError)
        assert done[1:] == [f"m{i}".encode() for i in range(1, 10)]

    async def test_an_error_reply_raises_and_the_next_call_works(self, pipe: RedisPipe) -> None:
        with pytest.raises(ResponseError, match="unknown command"):
            await call(pipe, "NO-SUCH-COMMAND")
        assert await call(pipe, "PING") == b"PONG"


class TestOutages:
    async def test_a_restarted_redis_fails_while_down_and_serves_after(
        self, pipe: RedisPipe, server: Controlled
    ) -> None:
        assert await call(pipe, "SET", "k", "before") == b"OK"
        server.kill()
        for _ in range(3):  # the connection lost, then no connection to be had
            with pytest.raises(RedisError):
                await call(pipe, "GET", "k")
        server.start()  # empty: nothing is kept on disk
        assert await eventually(lambda: call(pipe, "GET", "k")) is None
        replies = await asyncio.gather(*(call(pipe, "ECHO", f"m{i}") for i in range(100)))
        assert replies == [f"m{i}".encode() for i in range(100)]

    async def test_a_hung_redis_fails_within_the_timeout(
        self, pipe: RedisPipe, server: Controlled
    ) -> None:
        assert await call(pipe, "PING") == b"PONG"
        server.pause()
        try:
            with pytest.raises(PipeError, match="no answer"):
                await call(pipe, "PING")
            with pytest.raises(PipeError):  # a new connection cannot finish its handshake
                await call(pipe, "PING")
        finally:
            server.resume()
        assert await eventually(lambda: call(pipe, "PING")) == b"PONG"

    async def test_an_unreachable_redis_fails_and_then_fails_at_once(self) -> None:
        pipe = RedisPipe(f"redis://127.0.0.1:{free_port()}/0", timeout=TIMEOUT)
        try:
            with pytest.raises(PipeError, match="cannot reach"):
                await call(pipe, "PING")
            with pytest.raises(PipeError, match="unreachable"):
                pipe.call("PING")  # refused before any connect is tried
        finally:
            await pipe.aclose()

    async def test_a_cache_lookup_with_redis_down_is_served_uncached(
        self, pipe: RedisPipe, server: Controlled
    ) -> None:
        redis = Redis.from_url(server.url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        try:
            cache = Cache(redis, 300, pipe)
            assert await cache.lookup("name", ["catalog"]) is not None
            server.kill()
            assert await cache.lookup("name", ["catalog"]) is None
            assert not cache.trusted
        finally:
            await redis.aclose()


class TestBound:
    async def test_calls_past_the_bound_fail_at_once_and_the_rest_are_answered(
        self, server: Controlled
    ) -> None:
        pipe = RedisPipe(server.url, timeout=TIMEOUT, max_pending=4)
        try:
            accepted = [pipe.call("ECHO", f"m{i}") for i in range(4)]
            with pytest.raises(PipeError, match="waiting"):
                pipe.call("ECHO", "one too many")
            assert await asyncio.wait_for(asyncio.gather(*accepted), HANG) == [
                f"m{i}".encode() for i in range(4)
            ]
            assert await call(pipe, "ECHO", "room again") == b"room again"
        finally:
            await pipe.aclose()

    async def test_a_closed_pipe_fails_its_callers(self, server: Controlled) -> None:
        pipe = RedisPipe(server.url, timeout=TIMEOUT)
        waiting = pipe.call("PING")
        await pipe.aclose()
        with pytest.raises(PipeError, match="closed"):
            await asyncio.wait_for(waiting, HANG)
        with pytest.raises(PipeError, match="closed"):
            pipe.call("PING")


class TestUrl:
    async def test_the_database_and_credentials_of_the_url_are_used(self, tmp_path: Path) -> None:
        user = ["cache-user", "on", ">s3cret", "~*", "&*", "+@all"]  # default stays open
        server = controlled_redis(tmp_path / "redis", "--user", *user)
        host_port = server.url.removeprefix("redis://")
        pipe = RedisPipe(f"redis://cache-user:s3cret@{host_port}/3", timeout=TIMEOUT)
        redis = Redis.from_url(f"redis://{host_port}/3")
        try:
            await call(pipe, "SET", "where", "db3")
            assert await redis.get("where") == b"db3"
        finally:
            await pipe.aclose()
            await redis.aclose()
            server.stop()

    async def test_a_unix_socket_url_is_served(self, tmp_path: Path) -> None:
        socket = tmp_path / "redis.sock"
        server = controlled_redis(tmp_path / "redis", "--unixsocket", str(socket))
        pipe = RedisPipe(f"unix://{socket}?db=2", timeout=TIMEOUT)
        try:
            assert isinstance(pipe.make_connection(), UnixDomainSocketConnection)
            assert await call(pipe, "PING") == b"PONG"
        finally:
            await pipe.aclose()
            server.stop()

    def test_rediss_and_the_query_options_reach_the_connection(self) -> None:
        url = (
            "rediss://cache-user:p%40ss@cache.example:6390/5"
            "?socket_timeout=2.5&socket_connect_timeout=1.5&ssl_cert_reqs=none&client_name=api"
        )
        pipe = RedisPipe(url, timeout=TIMEOUT)
        connection = pipe.make_connection()
        assert isinstance(connection, SSLConnection)
        assert (connection.host, connection.port, connection.db) == ("cache.example", 6390, 5)
        assert (connection.username, connection.password) == ("cache-user", "p@ss")
        assert connection.client_name == "api"
        assert connection.socket_connect_timeout == 1.5
        assert connection.ssl_context.cert_reqs == ssl.CERT_NONE
        assert pipe.timeout == 2.5  # the URL's read timeout, enforced by the pipe per batch

    def test_without_options_the_given_timeout_applies(self) -> None:
        pipe = RedisPipe("rediss://cache.example", timeout=TIMEOUT)
        connection = pipe.make_connection()
        assert isinstance(connection, SSLConnection)
        assert connection.ssl_context.cert_reqs == ssl.CERT_REQUIRED
        assert connection.socket_connect_timeout == TIMEOUT
        assert pipe.timeout == TIMEOUT
