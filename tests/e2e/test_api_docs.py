"""The API docs render under their strict CSP (only Swagger UI's own start script may run)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import LiveServer

pytestmark = pytest.mark.browser


def test_api_docs_render_under_their_csp(page: Page, live_server: LiveServer) -> None:
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/v1/tickets/{ticket_id}").first).to_be_visible()
    assert blocked == []
