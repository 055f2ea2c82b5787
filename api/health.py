"""Liveness and readiness: is the process up, and can it reach what it depends on."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])

_CHECK_TIMEOUT = 2.0


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process is up (touches no dependency)."""
    return {"status": "ok"}


async def _database(request: Request) -> None:
    async with request.app.state.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _redis(request: Request) -> None:
    await request.app.state.redis.ping()


async def _meilisearch(request: Request) -> None:
    state = request.app.state
    client = state.meili or await state.search.connect()
    await client.health()


PROBES: dict[str, Callable[[Request], Awaitable[None]]] = {
    "database": _database,
    "redis": _redis,
    "meilisearch": _meilisearch,
}


async def _check(name: str, request: Request) -> str:
    try:
        await asyncio.wait_for(PROBES[name](request), _CHECK_TIMEOUT)
    except TimeoutError:
        log.warning("readiness: %s timed out after %ss", name, _CHECK_TIMEOUT)
        return "down: timeout"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        # The driver's text names hosts and ports: the log has it, the public answer does not.
        log.warning("readiness: %s is down: %s: %s", name, type(exc).__name__, exc)
        return "down"
    return "ok"


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """Readiness: whether the database, Redis and Meilisearch answer; 503 naming what is down."""
    results = await asyncio.gather(*(_check(name, request) for name in PROBES))
    checks = dict(zip(PROBES, results, strict=True))
    down = [name for name, result in checks.items() if result != "ok"]
    if down:
        body = {
            "detail": f"Not ready: {', '.join(down)} unreachable",
            "code": "not_ready",
            "checks": checks,
        }
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})
