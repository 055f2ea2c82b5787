"""The one Redis connection the cache lookups of every request share, their commands of one
event-loop turn written together and the replies handed back in order.

redis-py opens the connection (TCP, TLS or a unix socket; AUTH, SELECT and every other option of
the URL, read as `from_url` reads it) and parses the replies; hiredis packs the commands. What is
ours is that many callers share one connection: redis-py has no autopipelining, and a command
per lookup cost a cached hit 2-2.6 times the server CPU, batching them through redis-py's
`pipeline()` 1.5 times (bench/results/redis-pipe.md).
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any, cast

import hiredis
from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

log = logging.getLogger(__name__)

# After a failed connect, calls fail at once for this long instead of each waiting on a connect.
RETRY_AFTER_SECONDS = 1.0
# Commands queued or awaiting their reply past which calls fail at once instead of queueing.
MAX_PENDING = 1024

Arg = bytes | str | int
Waiting = list[tuple[tuple[Arg, ...], asyncio.Future[Any]]]

# hiredis's packer (redis-py 5's async one costs ~4 µs a command): each argument is one RESP
# argument, strings as UTF-8. Its stub types the command as a 1-tuple.
_pack = cast(Callable[[tuple[Arg, ...]], bytes], hiredis.pack_command)


class PipeError(RedisConnectionError):
    """Redis could not be reached or did not answer in time, or too many commands wait on it."""


class RedisPipe:
    """One connection, opened on first use and again after a failure. `call` fails (with a
    RedisError) when Redis is down, silent for `timeout` seconds (the URL's `socket_timeout`
    wins), or `max_pending` commands wait already, so the caller can go on without it."""

    def __init__(self, url: str, timeout: float, max_pending: int = MAX_PENDING) -> None:
        # from_url's own reading of the URL; its options win over these defaults.
        pool = ConnectionPool.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._connection_class: type[AbstractConnection] = pool.connection_class
        self._options = dict(pool.connection_kwargs)
        # Enforced once per batch here: redis-py would start a timer for every reply.
        self.timeout: float = self._options.pop("socket_timeout", None) or timeout
        connect_timeout = self._options.get("socket_connect_timeout") or timeout
        self._connect_bound = connect_timeout + self.timeout  # the TCP connect, then the handshake
        self.max_pending = max_pending
        self._queued: Waiting = []  # not written yet
        self._sent: Waiting = []  # written, awaiting their replies
        self._runner: asyncio.Task[None] | None = None  # connects, writes and reads
        self._wakeup: asyncio.Future[None] | None = None
        self._down_until = 0.0
        self._closed = False

    def make_connection(self) -> AbstractConnection:
        """A new, unopened connection as the URL describes it."""
        return self._connection_class(**self._options)

    def call(self, *args: Arg) -> asyncio.Future[Any]:
        """Send a command; the future gets its reply or its error. Cancelling it only drops
        its own reply: the connection reads every reply whoever stopped waiting."""
        loop = asyncio.get_running_loop()
        if self._closed:
            raise PipeError("the pipe is closed")
        if len(self._queued) + len(self._sent) >= self.max_pending:
            raise PipeError(f"{self.max_pending} commands are waiting on Redis already")
        if self._runner is None and loop.time() < self._down_until:
            raise PipeError("Redis is unreachable")
        future: asyncio.Future[Any] = loop.create_future()
        self._queued.append((args, future))
        if self._runner is None:
            self._runner = loop.create_task(self._run())
        elif self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
        return future

    async def _run(self) -> None:
        connection: AbstractConnection | None = None
        try:
            connection = await self._connect()
            while True:
                if not self._queued:
                    await self._idle()
                await self._exchange(connection)
        except asyncio.CancelledError:
            self._fail(PipeError("the pipe is closed"))
            raise
        except (RedisError, OSError) as exc:
            self._fail(exc)
        except Exception as exc:  # noqa: BLE001 - whatever broke, no caller is left waiting
            log.exception("redis pipe failed")
            self._fail(PipeError(f"redis pipe failed: {exc!r}"))
        finally:
            self._runner = None
            if connection is not None:
                await connection.disconnect(nowait=True)

    async def _connect(self) -> AbstractConnection:
        connection = self.make_connection()
        try:
            # The handshake's replies are read without redis-py's socket timeout (see timeout).
            async with asyncio.timeout(self._connect_bound):
                await connection.connect()
        except BaseException as exc:
            await connection.disconnect(nowait=True)
            if not isinstance(exc, RedisError | OSError):
                raise
            self._down_until = asyncio.get_running_loop().time() + RETRY_AFTER_SECONDS
            raise PipeError(f"cannot reach Redis: {str(exc) or type(exc).__name__}") from exc
        return connection

    async def _idle(self) -> None:
        self._wakeup = asyncio.get_running_loop().create_future()
        try:
            await self._wakeup
        finally:
            self._wakeup = None

    async def _exchange(self, connection: AbstractConnection) -> None:
        """Write what is queued at once (less what its callers gave up on), then hand each
        reply to its caller in order."""
        self._sent = [(args, future) for args, future in self._queued if not future.done()]
        self._queued = []
        if not self._sent:
            return
        try:
            async with asyncio.timeout(self.timeout):
                commands = [_pack(args) for args, _ in self._sent]
                await connection.send_packed_command(commands)
                for _, future in self._sent:
                    try:
                        reply = await connection.read_response()
                    except ResponseError as exc:  # this command's error; the connection is fine
                        reply = exc
                    if not future.done():
                        _settle(future, reply)
        except TimeoutError as exc:
            log.warning("redis silent for %.1fs; dropping the connection", self.timeout)
            raise PipeError(f"no answer from Redis within {self.timeout}s") from exc
        self._sent = []

    def _fail(self, exc: BaseException) -> None:
        """Fail every caller still waiting (those answered or gone are left alone)."""
        waiting = self._sent + self._queued
        self._sent, self._queued = [], []
        for _, future in waiting:
            if not future.done():
                future.set_exception(exc)

    async def aclose(self) -> None:
        self._closed = True
        runner = self._runner
        if runner is not None:
            runner.cancel()
            await asyncio.wait([runner])
        self._fail(PipeError("the pipe is closed"))


def _settle(future: asyncio.Future[Any], reply: Any) -> None:
    if isinstance(reply, ResponseError):
        future.set_exception(reply)
    else:
        future.set_result(reply)
