"""Every HTML route that answers either a whole page or, for htmx, a fragment says so with
`Vary: HX-Request` (web.templating.page), so that no cache serves one for the other; and the
two answers really differ."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import Browser

PAGES = [
    "/inbox",
    "/tickets/new",
    "/customers",
    "/organisations",
    "/admin/users",
    "/admin/audit",
    "/admin/fields",
    "/admin/forms",
]


@pytest.mark.parametrize("url", PAGES)
def test_page_and_fragment_vary_on_hx_request(
    url: str, sign_in_as: Callable[[str], Browser]
) -> None:
    admin = sign_in_as("admin")
    whole = admin.get(url)
    part = admin.get(url, htmx=True)
    assert whole.status_code == part.status_code == 200, (whole.text[:300], part.text[:300])
    assert "HX-Request" in whole.headers.get("vary", ""), url
    assert "HX-Request" in part.headers.get("vary", ""), url
    assert "<html" in whole.text
    assert "<html" not in part.text


def test_a_post_answers_htmx_with_hx_redirect_and_a_browser_with_303(
    sign_in_as: Callable[[str], Browser],
) -> None:
    agent = sign_in_as("agent1")
    plain = agent.post("/tickets/new", {"subject": "Without JavaScript"})
    htmx = agent.post("/tickets/new", {"subject": "With htmx"}, htmx=True)
    assert plain.status_code == 303
    assert plain.headers["location"].startswith("/tickets/")
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"].startswith("/tickets/")
    assert "HX-Request" in plain.headers["vary"]
