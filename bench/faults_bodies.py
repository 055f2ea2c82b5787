"""Scenario 5 of the fault benchmark: oversized request bodies against a running API, while
/health is polled. A body over the API's limit is refused with 413 from its Content-Length;
the figures say whether clients get that answer and whether other requests wait meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx

from bench.faults_stack import Stack, percentile_ms

PATH = "/auth/register"
BIG_KEYS, BIG_POSTS = 1_000_000, 4
HEALTH_PERIOD, HEALTH_MIN_WINDOW = 0.05, 2.0
ANSWER_TIMEOUT = 30.0

Outcome = tuple[str, float, int]  # status (or the error), seconds, answer bytes


def big_object(keys: int) -> bytes:
    """A JSON object of `keys` members, 12 bytes each: 1M keys is 12 MB."""
    return b"{" + b",".join(b'"k%06d":0' % n for n in range(keys)) + b"}"


def registration_with_extras(limit: int) -> tuple[bytes, int]:
    """A valid registration plus as many extra keys as fit in `limit` bytes (the API's body
    limit, so it is parsed and validated); the body and how many extra keys it holds."""
    head = b'{"email":"big@example.com","password":"password123"'
    extra = len(b',"x0000000":0')
    count = (limit - len(head) - 1) // extra
    return head + b"".join(b',"x%07d":0' % n for n in range(count)) + b"}", count


async def post(s: Stack, body: bytes) -> Outcome:
    """An anonymous POST of raw JSON with httpx, which sends the whole body before it reads."""
    started = time.monotonic()
    try:
        answer = await s.http.post(PATH, content=body, headers={"Content-Type": "application/json"})
        outcome, size = str(answer.status_code), len(answer.content)
    except httpx.HTTPError as exc:
        outcome, size = type(exc).__name__, 0
    return outcome, time.monotonic() - started, size


def _head(port: int, length: int) -> bytes:
    return (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()


async def _status(reader: asyncio.StreamReader) -> tuple[str, int]:
    """The status code and Content-Length of the next response head on `reader`."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), ANSWER_TIMEOUT)
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return lines[0].split(" ")[1], int(fields.get("content-length", 0))


async def post_expecting(port: int, body: bytes) -> Outcome:
    """The same POST as curl sends a big body: `Expect: 100-continue`, the body only once the
    server said `100 Continue`; the final answer's status."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_head(port, len(body)))
        await writer.drain()
        status, size = await _status(reader)
        if status == "100":
            writer.write(body)
            await writer.drain()
            status, size = await _status(reader)
    except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
        status, size = type(exc).__name__, 0
    finally:
        writer.close()
    return status, time.monotonic() - started, size


async def poll_health(s: Stack, stop: asyncio.Event) -> tuple[list[float], int]:
    """GET /health every HEALTH_PERIOD s until `stop` (bounded: at most 2,000 polls)."""
    seconds, failed = [], 0
    for _ in range(2000):
        if stop.is_set():
            break
        started = time.monotonic()
        try:
            failed += (await s.http.get("/health")).status_code != 200
        except httpx.HTTPError:
            failed += 1
        seconds.append(time.monotonic() - started)
        await asyncio.sleep(max(0.0, started + HEALTH_PERIOD - time.monotonic()))
    return seconds, failed


def _row(what: str, outcomes: list[Outcome]) -> list[Any]:
    codes, took, sizes = zip(*outcomes, strict=True)
    answers = ", ".join(f"{code} ×{n}" for code, n in sorted(Counter(codes).items()))
    return [what, answers, max(took), max(sizes)]


async def _rounds(s: Stack) -> list[list[Any]]:
    """The big bodies at once with httpx, with one body just under the limit; then the big
    ones again at once, sent as curl sends them."""
    big = big_object(BIG_KEYS)
    under, extras = registration_with_extras(s.settings.MAX_BODY_BYTES)
    first = await asyncio.gather(*(post(s, body) for body in [big] * BIG_POSTS + [under]))
    port = s.http.base_url.port or 80
    second = await asyncio.gather(*(post_expecting(port, big) for _ in range(BIG_POSTS)))
    size = f"{len(big):,} B, {BIG_KEYS:,} keys"
    return [
        _row(f"{BIG_POSTS}× {size}, httpx", first[:BIG_POSTS]),
        _row(f"1× {len(under):,} B, {extras:,} extra keys, httpx", first[BIG_POSTS:]),
        _row(f"{BIG_POSTS}× {size}, `Expect: 100-continue`", list(second)),
    ]


async def oversized_bodies(s: Stack) -> tuple[list[list[Any]], list[Any]]:
    """The rows of the bodies sent, and /health's: polls, p50 ms, max ms, failed."""
    stop = asyncio.Event()
    health = asyncio.create_task(poll_health(s, stop))
    started = time.monotonic()
    try:
        rows = await _rounds(s)
        await asyncio.sleep(max(0.0, started + HEALTH_MIN_WINDOW - time.monotonic()))
    finally:
        stop.set()
    polls, failed = await health
    return rows, [len(polls), percentile_ms(polls, 50), percentile_ms(polls, 100), failed]
