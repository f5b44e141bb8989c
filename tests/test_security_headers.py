"""Security headers and the anonymous CSRF cookie (web/security.py, a pure ASGI middleware)."""

from __future__ import annotations

import base64
import hashlib
import re
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


def test_api_docs_have_a_csp_that_runs_only_their_own_script(client: Any) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in policy
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    [script] = re.findall(r"<script>(.*?)</script>", response.text, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy


def test_api_docs_load_their_assets_from_this_server(client: Any) -> None:
    """No CDN: the API docs work on an intranet without internet access."""
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        url = f"/static/vendor/swagger-ui-5.35.0/{asset}"
        assert url in page.text
        assert client.get(url).status_code == 200


def test_openapi_declares_the_bearer_token_so_the_docs_can_authorize(client: Any) -> None:
    spec = client.get("/api/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["API token"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    create = spec["paths"]["/api/v1/tickets"]["post"]
    assert {"API token": []} in create["security"]
