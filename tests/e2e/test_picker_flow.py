"""In a real browser, at desktop width and at 375 px: a user field of a ticket form is a search
picker; type part of a name, choose the person, save, and the details show their name."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser, expect

from fuwu.db import transaction
from fuwu.tickets.types import service as ticket_types
from support_fields import engineer_type

from .conftest import LiveServer, log_in

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("FUWU_TEST_SCREENSHOTS")
TZ = "Asia/Shanghai"


def _seed(server: LiveServer) -> None:
    with transaction(server.app.state.reader) as session:
        if ticket_types.form(session, "visit", TZ) is not None:
            return  # the server lives for the session: seeded by the first width
    engineer_type(server.app)


@pytest.mark.parametrize("width", [1280, 375])
def test_pick_an_engineer_by_name(browser: Browser, live_server: LiveServer, width: int) -> None:
    _seed(live_server)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    page = context.new_page()
    try:
        log_in(page, live_server)
        page.goto(f"{live_server.url}/tickets/new?type=visit")
        page.fill("input[name=subject]", f"Install at {width}")
        search = page.locator(".picker .picker-search")
        expect(search).to_be_visible()
        expect(page.locator("input[name=engineer]")).to_be_hidden()
        search.fill("wang")
        option = page.locator(".picker-options [data-id]", has_text="Wang Fang")
        expect(option).to_be_visible()
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/picker-{width}.png", full_page=True)
        option.click()
        expect(search).to_have_value("Wang Fang")
        assert page.locator("input[name=engineer]").input_value() == str(live_server.ids["agent1"])
        page.locator("#new-ticket button[type=submit]").click()
        page.wait_for_url("**/tickets/*")
        expect(page.locator("body")).to_contain_text("Wang Fang")
        expect(page.locator("body")).not_to_contain_text(f"#{live_server.ids['agent1']}")
    finally:
        context.close()
