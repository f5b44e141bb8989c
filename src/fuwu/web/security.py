"""Security headers on every response and the anonymous CSRF cookie."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-eval'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def docs_policy(html: bytes) -> str:
    """The API docs' CSP: our own files, plus exactly the inline script Swagger UI starts
    with (by its hash, so no other inline script runs), framed by this site only."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in re.findall(rb"<script>(.*?)</script>", html, flags=re.S)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
        "form-action 'self'"
    )


class SecurityHeadersMiddleware:
    """nosniff, frame denial, CSP for pages, and a CSRF cookie for forms before sign-in.

    Pure ASGI rather than BaseHTTPMiddleware: no extra task and stream per request
    (measured in docs/benchmarks.md).
    """

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        anon = request.cookies.get("fuwu_csrf")
        request.state.anon_csrf = anon or secrets.token_urlsafe(32)
        path = request.url.path

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if "content-security-policy" not in headers:
                    # A route that sets its own policy (the embeddable web form) also decides
                    # who may frame it; X-Frame-Options: DENY would contradict it.
                    headers["X-Frame-Options"] = headers.get("X-Frame-Options", "DENY")
                    headers["Content-Security-Policy"] = CSP
                if not path.startswith(("/api/", "/static/")) and not anon:
                    cookie = Response()
                    cookie.set_cookie(
                        "fuwu_csrf",
                        request.state.anon_csrf,
                        httponly=True,
                        samesite="lax",
                        secure=self.secure,
                    )
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, send_with_headers)
