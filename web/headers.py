"""Security headers on every response, as a pure ASGI middleware.

Every HTTP response gets a strict Content-Security-Policy (scripts, styles and everything else from
this origin only; no framing; no plugins; forms post only here), X-Content-Type-Options nosniff,
Referrer-Policy no-referrer, X-Frame-Options DENY and a few cross-origin isolation headers. Every
response outside /static/ also gets ``Cache-Control: no-store``: pages, images and API answers may
show personal data and must never be kept by a browser or a proxy.

The templates and static scripts use no inline script, inline event handler or style attribute,
so the policy allows neither 'unsafe-inline' nor 'unsafe-eval'. A path that needs another policy
(for example the API docs) gets it through `path_csp`, here in one place, not per route.

Use: ``app.add_middleware(SecurityHeaders)`` or wrap the whole app: ``SecurityHeaders(app)``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

NO_STORE = "no-store"
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Pure ASGI middleware: sets the headers above on every HTTP response, replacing any that
    the app set itself (one policy, decided here), and ``Cache-Control: no-store`` on every
    response whose path does not start with one of `cacheable_prefixes`.

    `csp` replaces the whole Content-Security-Policy; `path_csp` maps path prefixes to another
    policy (longest prefix wins); `hsts=True` adds Strict-Transport-Security (only when served
    over HTTPS).
    """

    def __init__(
        self,
        app: ASGIApp,
        csp: str = CSP,
        path_csp: Mapping[str, str] | None = None,
        cacheable_prefixes: Iterable[str] = ("/static/",),
        hsts: bool = False,
    ) -> None:
        self.app = app
        self.csp = csp
        self.path_csp = sorted((path_csp or {}).items(), key=lambda kv: len(kv[0]), reverse=True)
        self.cacheable_prefixes = tuple(cacheable_prefixes)
        self.hsts = hsts

    def _headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        headers = dict(HEADERS)
        headers["content-security-policy"] = next(
            (csp for prefix, csp in self.path_csp if path.startswith(prefix)), self.csp
        )
        if not path.startswith(self.cacheable_prefixes):
            headers["cache-control"] = NO_STORE
        if self.hsts:
            headers["strict-transport-security"] = HSTS
        return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        ours = self._headers_for(path)
        names = {name for name, _ in ours}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                if b"cache-control" in names:
                    kept = [(k, v) for k, v in kept if k.lower() not in (b"expires", b"pragma")]
                message = {**message, "headers": kept + ours}
            await send(message)

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # an unexpected failure still answers with the same headers
            # type and code lines only: a message may quote SQL values (names) - invariant 9
            log.error("unexpected %s on %s %s\n%s", type(exc).__name__, scope.get("method"),
                      path, "".join(traceback.format_tb(exc.__traceback__)))
            if started:
                raise
            api = path.startswith("/api")
            body = (b'{"detail": "something went wrong on the server; it was logged: try '
                    b'again, or tell the DPO if it happens again"}' if api else
                    b"<!doctype html><html lang='en-GB'><meta charset='utf-8'><title>Something "
                    b"went wrong</title><h1>Something went wrong</h1><p>The error was logged. "
                    b"Try again, or tell the DPO if it happens again.</p></html>")
            await send_with_headers({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"application/json" if api else b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode())]})
            await send_with_headers({"type": "http.response.body", "body": body})
