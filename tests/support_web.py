"""Signing in through the login form, as a browser does, for tests of the HTML routes."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def signed_in(client: TestClient, username: str) -> str:
    """Sign in through the login form; the CSRF token of the session's pages."""
    page = client.get("/login")
    token = CSRF.search(page.text)
    assert token, "the login page carries a CSRF token"
    response = client.post(
        "/login",
        data={"username": username, "password": "correct-horse-42", "csrf_token": token.group(1),
              "next": "/inbox"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    found = CSRF.search(client.get("/tickets/new").text)
    assert found
    return found.group(1)
