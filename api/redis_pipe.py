"""A pipelined Redis connection for the cache lookup every public read makes.

redis-py spends more on its connection pool, per-command timeouts and one write per command than
Redis spends answering. Here every command issued during one turn of the event loop goes out in
a single write on one connection, and replies are matched to callers in order (Redis answers a
connection's commands in the order it received them).
"""

import asyncio
import logging
import ssl
from collections import deque
from typing import Any

import hiredis
from redis.asyncio.connection import SSLConnection, parse_url

log = logging.getLogger(__name__)

# After a failed connect, calls fail at once for this long instead of each waiting on a connect.
RETRY_AFTER_SECONDS = 1.0


class PipeError(ConnectionError):
    """Redis could not be reached, stopped answering or answered with an error."""


def pack(args: tuple[bytes | str | int, ...]) -> bytes:
    """A command in the Redis protocol (RESP): an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Protocol(asyncio.Protocol):
    def __init__(self, pipe: "RedisPipe") -> None:
        self.pipe = pipe
        self.reader = hiredis.Reader()

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            self.pipe.replied(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pipe.lost(exc)


class RedisPipe:
    """One connection, opened on first use and again after a loss; `call` raises PipeError
    when Redis is down or silent for `timeout` seconds, so the caller can go on without it."""

    def __init__(self, url: str, timeout: float) -> None:
        options: dict[str, Any] = dict(parse_url(url))
        if "path" in options:
            raise ValueError("RedisPipe needs a redis:// or rediss:// URL")
        self.host: str = options.get("host", "localhost")
        self.port: int = int(options.get("port", 6379))
        self.tls = options.get("connection_class") is SSLConnection
        self.setup = self._setup_commands(options)
        self.timeout = timeout
        self._transport: asyncio.Transport | None = None
        self._connecting: asyncio.Future[None] | None = None
        self._down_until = 0.0
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._outgoing: list[bytes] = []
        self._progress = 0  # replies received: the watchdog's sign of life
        self._watchdog: asyncio.TimerHandle | None = None

    @staticmethod
    def _setup_commands(options: dict[str, Any]) -> list[tuple[bytes | str | int, ...]]:
        commands: list[tuple[bytes | str | int, ...]] = []
        if options.get("password"):
            user = options.get("username")
            commands.append(("AUTH", *([user] if user else []), options["password"]))
        if int(options.get("db", 0)):
            commands.append(("SELECT", int(options["db"])))
        return commands

    async def call(self, *args: bytes | str | int) -> Any:
        if self._transport is None:
            await self._connect()
        return await self._send(pack(args))

    def _send(self, command: bytes) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append(future)
        if not self._outgoing:
            loop.call_soon(self._flush)
        self._outgoing.append(command)
        return future

    def _flush(self) -> None:
        commands, self._outgoing = self._outgoing, []
        if self._transport is None:
            self._fail_all(PipeError("connection lost"))
            return
        self._transport.write(b"".join(commands))
        if self._watchdog is None:
            self._arm_watchdog()

    def _arm_watchdog(self) -> None:
        seen = self._progress
        self._watchdog = asyncio.get_running_loop().call_later(self.timeout, self._check, seen)

    def _check(self, seen: int) -> None:
        self._watchdog = None
        if not self._waiting:
            return
        if self._progress == seen:
            log.warning("redis silent for %.1fs; dropping the connection", self.timeout)
            self._close(PipeError(f"no answer from Redis within {self.timeout}s"))
            return
        self._arm_watchdog()

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._down_until:
            raise PipeError("Redis is unreachable")
        if self._connecting is None:
            self._connecting = loop.create_future()
            loop.create_task(self._open())
        await asyncio.shield(self._connecting)

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        done = self._connecting
        assert done is not None
        try:
            async with asyncio.timeout(self.timeout):
                context = ssl.create_default_context() if self.tls else None
                transport, _ = await loop.create_connection(
                    lambda: _Protocol(self), self.host, self.port, ssl=context
                )
                self._transport = transport  # type: ignore[assignment]
                for command in self.setup:
                    await self._send(pack(command))
            done.set_result(None)
        except (OSError, TimeoutError, PipeError) as exc:
            self._down_until = loop.time() + RETRY_AFTER_SECONDS
            self._close(PipeError(f"cannot reach Redis: {exc}"))
            done.set_exception(PipeError(f"cannot reach Redis: {exc}"))
        finally:
            self._connecting = None

    def replied(self, reply: Any) -> None:
        self._progress += 1
        if not self._waiting:
            return
        future = self._waiting.popleft()
        if future.done():
            return
        if isinstance(reply, hiredis.ReplyError):
            future.set_exception(PipeError(str(reply)))
        else:
            future.set_result(reply)

    def lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._fail_all(PipeError(f"connection lost: {exc}"))

    def _close(self, error: PipeError) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.abort()
        self._fail_all(error)

    def _fail_all(self, error: PipeError) -> None:
        waiting, self._waiting = self._waiting, deque()
        for future in waiting:
            if not future.done():
                future.set_exception(error)

    async def aclose(self) -> None:
        self._close(PipeError("closed"))
