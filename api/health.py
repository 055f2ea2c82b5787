"""Liveness and readiness: is the process up, and can it reach what it depends on."""

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["operations"])

_CHECK_TIMEOUT = 2.0


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _database(request: Request) -> None:
    async with request.app.state.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _redis(request: Request) -> None:
    await request.app.state.redis.ping()


async def _meilisearch(request: Request) -> None:
    await request.app.state.meili.health()


async def _check(probe: Callable[[Request], Awaitable[None]], request: Request) -> str:
    try:
        await asyncio.wait_for(probe(request), _CHECK_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; say which
        return f"down: {type(exc).__name__}: {exc}"[:300]
    return "ok"


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    names = ("database", "redis", "meilisearch")
    results = await asyncio.gather(*(_check(p, request) for p in (_database, _redis, _meilisearch)))
    checks = dict(zip(names, results, strict=True))
    down = [name for name, result in checks.items() if result != "ok"]
    if down:
        body = {
            "detail": f"Not ready: {', '.join(down)} unreachable",
            "code": "not_ready",
            "checks": checks,
        }
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})
