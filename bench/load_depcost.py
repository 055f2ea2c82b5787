"""What a sync FastAPI dependency costs: the same cached-answer route with no dependencies, with
two plain `def` dependencies (like the API's SettingsDep and PageDep, which FastAPI runs in its
thread pool) and with the same two as `async def` (run inline). Evidence for the load report.

    python -m bench.load_depcost      # writes bench/results/load-depcost.md
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

from bench.load_wrk import LOAD_CPUS, SERVER_CPUS, can_pin, run_wrk, uvicorn, wrk_version

BODY = b'{"page":1,"results":[' + b",".join(b'{"id":%d,"title":"x"}' % i for i in range(20)) + b"]}"


def create_app() -> Any:
    from fastapi import Depends, FastAPI, Query, Request, Response

    variant = os.environ.get("DEPCOST_VARIANT", "none")
    app = FastAPI()

    def settings_sync(request: Request) -> Any:
        return request.app.state

    async def settings_async(request: Request) -> Any:
        return request.app.state

    def page_sync(
        page: Annotated[int, Query(ge=1)] = 1, per_page: Annotated[int, Query(ge=1, le=100)] = 20
    ) -> tuple[int, int]:
        return page, per_page

    async def page_async(
        page: Annotated[int, Query(ge=1)] = 1, per_page: Annotated[int, Query(ge=1, le=100)] = 20
    ) -> tuple[int, int]:
        return page, per_page

    if variant == "none":

        @app.get("/movies/popular")
        async def popular() -> Response:
            return Response(BODY, media_type="application/json")
    elif variant == "sync":

        @app.get("/movies/popular")
        async def popular(  # type: ignore[misc]
            s: Annotated[Any, Depends(settings_sync)], p: Annotated[Any, Depends(page_sync)]
        ) -> Response:
            return Response(BODY, media_type="application/json")
    else:

        @app.get("/movies/popular")
        async def popular(  # type: ignore[misc]
            s: Annotated[Any, Depends(settings_async)], p: Annotated[Any, Depends(page_async)]
        ) -> Response:
            return Response(BODY, media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> int:
    from bench.report import machine, table, write_result

    rows = []
    with tempfile.TemporaryDirectory(prefix="marquee-depcost-") as tmp:
        for variant, label in (
            ("none", "no dependencies"),
            ("sync", "2 `def` dependencies (thread pool)"),
            ("async", "the same 2 as `async def`"),
        ):
            env = {**os.environ, "DEPCOST_VARIANT": variant}
            best = None
            for _ in range(2):
                with uvicorn(
                    "bench.load_depcost:create_app",
                    env,
                    Path(tmp) / "log",
                    ["--workers", "1", "--no-access-log"],
                ) as server:
                    r = run_wrk(
                        server.url,
                        [("GET", "/movies/popular", "")],
                        Path(tmp),
                        connections=32,
                        seconds=8,
                        server_pid=server.pid,
                    )
                best = r if best is None or r.rps > best.rps else best
            assert best is not None
            rows.append([label, f"{best.rps:,.0f}", best.p50_ms, best.p99_ms])
            print(rows[-1], flush=True)
    pin = f"server CPU {SERVER_CPUS}, wrk CPU {LOAD_CPUS}" if can_pin() else "none"
    body = (
        "A FastAPI route answering fixed bytes (like a cache hit), c32, 8 s, best of 2; "
        f"uvicorn --workers 1 --no-access-log (httptools + uvloop); pinning: {pin}.\n\n"
        + table(["route", "req/s", "p50 ms", "p99 ms"], rows)
    )
    m = machine("n/a", "n/a") + [("wrk", wrk_version())]
    path = write_result("load-depcost", "What a sync FastAPI dependency costs", body, m)
    path.write_text(
        path.read_text().replace("`python -m bench load-depcost`", "`python -m bench.load_depcost`")
    )
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
