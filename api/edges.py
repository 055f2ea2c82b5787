"""The HTTP edge's hardening: security headers on every answer (the /3 layer's and the ones
answered before routing included), a strict Content-Security-Policy, with the docs pages
allowed exactly the assets they load, HSTS over HTTPS, and CORS for the configured origins."""

import base64
import hashlib
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]

# JSON answers load nothing and are never framed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
COMMON: Headers = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
# Sent over HTTPS only (RFC 6797 7.2): a year, this host only (its parent's other hosts are
# not this service's to pin).
HSTS = (b"strict-transport-security", b"max-age=31536000")
# What a browser app on an allowed origin may send and read (ETag, for If-Match edits).
CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CORS_REQUEST_HEADERS = ("Authorization", "Content-Type", "If-Match", "If-None-Match")
CORS_EXPOSED_HEADERS = ("ETag", "Retry-After")
CORS_MAX_AGE = 600


class SecurityHeaders:
    """Adds the precomputed headers to every answer's start: the common ones, the path's CSP
    (a docs page's own, else API_POLICY, unless the answer carries its own: the web app's
    pages, see web_policy) and, when the request came over HTTPS (uvicorn's --proxy-headers
    sets the scheme from a trusted proxy's X-Forwarded-Proto), HSTS."""

    def __init__(self, app: ASGIApp, page_policies: Mapping[str, str]) -> None:
        self.app = app
        self.plain = _with_policy(API_POLICY)
        self.pages = {path: _with_policy(policy) for path, policy in page_policies.items()}
        self.own_policy = (COMMON, [*COMMON, HSTS])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = self.pages.get(path.rstrip("/") or "/", self.plain)
        https = scope.get("scheme") == "https"

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent = message.get("headers", ())
                own = any(k.lower() == b"content-security-policy" for k, _ in sent)
                extra = (self.own_policy if own else headers)[https]
                # A new list: extending the one sent could grow a list its sender reuses.
                message["headers"] = [*sent, *extra]
            await send(message)

        await self.app(scope, receive, secured)


def _with_policy(policy: str) -> tuple[Headers, Headers]:
    """The headers for a path: over plain HTTP, and over HTTPS."""
    plain = [*COMMON, (b"content-security-policy", policy.encode())]
    return plain, [*plain, HSTS]


def harden(app: ASGIApp, cors_origins: list[str], page_policies: Mapping[str, str]) -> ASGIApp:
    """The edge's outer layers: CORS (when origins are configured; none by default), inside
    the security headers, so preflights and refusals carry them too."""
    if cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=CORS_MAX_AGE,
        )
    return SecurityHeaders(app, page_policies)


def web_policy(image_base_url: str) -> str:
    """The web app's pages (api.web): its own scripts and styles only, posters from the
    configured image base's origin, the API on this origin."""
    parts = urlsplit(image_base_url)
    images = f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:{images}; connect-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def docs_policies(apps: Iterable[tuple[str, FastAPI]]) -> dict[str, str]:
    """The CSP of each docs page that the (prefix, app) pairs serve, from the very HTML the
    app renders there (fastapi.applications.FastAPI.setup): its external scripts, styles and
    icon by URL, its inline scripts by hash, nothing else. Styles also allow inline ones
    (Swagger UI and ReDoc set style attributes and inject <style> at run time), ReDoc a
    worker built from a blob (its search) and Google's fonts."""
    policies: dict[str, str] = {}
    for prefix, app in apps:
        if not app.openapi_url:
            continue
        openapi_url = prefix + app.openapi_url
        if app.docs_url:
            redirect = app.swagger_ui_oauth2_redirect_url
            swagger = get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=prefix + redirect if redirect else None,
                init_oauth=app.swagger_ui_init_oauth,
                swagger_ui_parameters=app.swagger_ui_parameters,
            )
            policies[prefix + app.docs_url] = page_policy(swagger.body)
            if redirect:
                oauth = get_swagger_ui_oauth2_redirect_html()
                policies[prefix + redirect] = page_policy(oauth.body)
        if app.redoc_url:
            redoc = get_redoc_html(openapi_url=openapi_url, title=f"{app.title} - ReDoc")
            policies[prefix + app.redoc_url] = page_policy(
                redoc.body, fonts="https://fonts.gstatic.com", workers="blob:"
            )
    return policies


def page_policy(html: bytes | memoryview, fonts: str = "", workers: str = "") -> str:
    """A CSP allowing exactly what `html` loads (see docs_policies)."""
    page = _Assets()
    page.feed(bytes(html).decode())
    page.close()
    directives = {
        "default-src": "'none'",
        "script-src": " ".join([*page.scripts, *page.inline_hashes]) or "'none'",
        "style-src": " ".join([*page.styles, "'unsafe-inline'"]),
        "img-src": " ".join(["'self'", "data:", *page.images]),
        "font-src": fonts or "'none'",
        "worker-src": workers or "'none'",
        "connect-src": "'self'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class _Assets(HTMLParser):
    """What a page loads: script URLs, inline scripts' hashes, stylesheet and icon URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.inline_hashes: list[str] = []
        self.styles: list[str] = []
        self.images: list[str] = []
        self._inline: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        src, href, rel = found.get("src"), found.get("href"), found.get("rel") or ""
        if tag == "script":
            self._inline = None if src else []
            if src:
                self.scripts.append(src)
        elif tag == "link" and href and "stylesheet" in rel:
            self.styles.append(href)
        elif tag == "link" and href and "icon" in rel:
            self.images.append(href)

    def handle_data(self, data: str) -> None:
        if self._inline is not None:
            self._inline.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._inline is not None:
            digest = hashlib.sha256("".join(self._inline).encode()).digest()
            self.inline_hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
            self._inline = None
