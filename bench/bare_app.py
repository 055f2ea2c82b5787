"""The framework's ceiling: a raw ASGI app answering stored JSON bytes.

It serves exactly the bytes a cached `/movies/popular` and `/movies/{id}` answer of the API
(captured by the load benchmark into the JSON file named by BARE_APP_BODIES: {path: text}),
with the same content type, and nothing else: no routing table, no validation, no middleware,
no Redis. Run it with the same uvicorn settings as the API:

    BARE_APP_BODIES=/tmp/bodies.json uvicorn bench.bare_app:create_app --factory --port 8001
"""

from __future__ import annotations

import json
import os
from typing import Any

Scope = dict[str, Any]


def _headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]


def create_app(bodies: dict[str, str] | None = None) -> Any:
    if bodies is None:
        with open(os.environ["BARE_APP_BODIES"], encoding="utf-8") as f:
            bodies = json.load(f)
    answers = {path.rstrip("/") or "/": text.encode() for path, text in bodies.items()}
    not_found = b'{"detail":"Not found","code":"not_found"}'

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path = scope["path"].rstrip("/") or "/"
        if path == "/health":
            body, status = b'{"status":"ok"}', 200
        else:
            found = answers.get(path)
            body, status = (found, 200) if found is not None else (not_found, 404)
        await send({"type": "http.response.start", "status": status, "headers": _headers(body)})
        await send({"type": "http.response.body", "body": body})

    return app
