"""Security headers on every response and the anonymous CSRF cookie."""

from __future__ import annotations

import secrets

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-eval'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class SecurityHeadersMiddleware(BaseHTTPMiddleware):
    """nosniff, frame denial, CSP for pages, and a CSRF cookie for forms before sign-in."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        super().__init__(app)
        self.secure = secure

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        anon = request.cookies.get("fuwu_csrf")
        request.state.anon_csrf = anon or secrets.token_urlsafe(32)
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/api/docs"):
            headers.setdefault("X-Frame-Options", "DENY")
            headers.setdefault("Content-Security-Policy", CSP)
        if not request.url.path.startswith(("/api/", "/static/")) and not anon:
            response.set_cookie(
                "fuwu_csrf",
                request.state.anon_csrf,
                httponly=True,
                samesite="lax",
                secure=self.secure,
            )
        return response
