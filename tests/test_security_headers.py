"""Security headers and the anonymous CSRF cookie (web/security.py, a pure ASGI middleware)."""

from __future__ import annotations

from typing import Any


def test_pages_get_csp_frame_denial_and_a_csrf_cookie_once(client: Any) -> None:
    first = client.get("/login")
    assert first.status_code == 200
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["referrer-policy"] == "same-origin"
    assert first.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in first.headers["content-security-policy"]
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("fuwu_csrf=")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    assert token in first.text  # the login form echoes the same token (double submit)
    again = client.get("/login")
    assert "set-cookie" not in again.headers  # the browser already holds one


def test_api_responses_get_headers_but_no_cookie(client: Any) -> None:
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in response.headers


def test_api_docs_may_be_framed_by_their_own_scripts(client: Any) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "x-frame-options" not in response.headers
    assert "content-security-policy" not in response.headers
