"""The web app (web/): index.html at / and at the app's own page paths, its assets under a
versioned /static/<hash>/ path cached for a year. Only the paths listed here are the app's:
every API path, and its 404s, stay the API's."""

import hashlib
import mimetypes
from dataclasses import dataclass
from html import escape
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.edges import web_policy
from api.settings import Settings

WEB = Path(__file__).resolve().parents[1] / "web"
IMMUTABLE = "public, max-age=31536000, immutable"
# The app's own pages (web/app.js routes them); anything else is the API's to answer.
PAGES = (
    "/",
    "/movie/{movie_id:int}",
    "/person/{person_id:int}",
    "/genre/{genre_id:int}",
    "/signin",
    "/register",
    "/account",
)
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
}


@dataclass(frozen=True)
class WebApp:
    version: str
    index: bytes
    assets: dict[str, bytes]
    policy: str


def load(settings: Settings, root: Path = WEB) -> WebApp:
    """Read web/ once: the version is a hash of every file, so any change renames the assets."""
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "index.html"
    }
    digest = hashlib.sha256()
    for name, body in files.items():
        digest.update(name.encode() + b"\0" + body)
    version = digest.hexdigest()[:12]
    index = (root / "index.html").read_text()
    index = index.replace("__STATIC__", f"/static/{version}")
    index = index.replace("__IMAGE_BASE__", escape(settings.IMAGE_BASE_URL, quote=True))
    return WebApp(version, index.encode(), files, web_policy(settings.IMAGE_BASE_URL))


def _content_type(name: str) -> str:
    suffix = Path(name).suffix
    return TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def mount_web(app: FastAPI, settings: Settings) -> None:
    """Serve the web app from this process, when web/ is there."""
    if not (WEB / "index.html").is_file():
        return
    web = load(settings)
    page_headers = {"Cache-Control": "no-cache", "Content-Security-Policy": web.policy}

    async def page(request: Request) -> Response:
        return Response(web.index, media_type=TYPES[".html"], headers=page_headers)

    async def asset(request: Request) -> Response:
        body = web.assets.get(request.path_params["name"])
        if body is None:
            return JSONResponse({"detail": "Not Found", "code": "not_found"}, status_code=404)
        # An older page asking for its version gets today's file, not kept for long.
        current = request.path_params["version"] == web.version
        headers = {"Cache-Control": IMMUTABLE if current else "no-cache"}
        return Response(
            body, media_type=_content_type(request.path_params["name"]), headers=headers
        )

    for path in PAGES:
        app.router.routes.append(Route(path, page, methods=["GET"], include_in_schema=False))
    static = Route("/static/{version}/{name:path}", asset, methods=["GET"], include_in_schema=False)
    app.router.routes.append(static)
