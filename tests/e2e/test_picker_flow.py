"""In a real browser, at desktop width and at 375 px: a user field of a ticket form is a search
picker; type part of a name, choose the person, save, and the details show their name. An
asset's owner is chosen the same way."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser, expect

from fuwu.auth.principal import Principal
from fuwu.customers import service as customers_service
from fuwu.customers.schemas import ContactCreate
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


@pytest.mark.parametrize("width", [1280, 375])
def test_an_asset_is_given_its_owner_by_name(
    browser: Browser, live_server: LiveServer, width: int
) -> None:
    with transaction(live_server.app.state.writer) as session:
        owner = customers_service.create_contact(
            session, actor=Principal.system(), data=ContactCreate(name=f"陈静 {width}")
        )
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    page = context.new_page()
    try:
        log_in(page, live_server)
        page.goto(f"{live_server.url}/assets/new")
        page.fill("input[name=product]", "空调")
        page.fill("input[name=serial_number]", f"KT-{width}")
        search = page.locator(".picker .picker-search").first
        expect(search).to_be_visible()
        search.fill(f"陈静 {width}")
        option = page.locator(".picker-options [data-id]", has_text=f"陈静 {width}")
        option.click()
        assert page.locator("input[name=contact_id]").input_value() == str(owner.id)
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/asset-owner-{width}.png", full_page=True)
        page.locator("form.card button[type=submit]").click()
        page.wait_for_url("**/assets/*?saved=1")
        expect(page.locator(".facts")).to_contain_text(f"陈静 {width}")
    finally:
        context.close()
