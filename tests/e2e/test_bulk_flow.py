"""In a real browser, at desktop width and at 375 px: tick tickets in the inbox, the bulk bar
appears saying how many, apply a status to them, the list reloads showing it."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser, Page, expect

from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.tickets import service as tickets_service
from fuwu.tickets.schemas import TicketCreate

from .conftest import LiveServer, log_in

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("FUWU_TEST_SCREENSHOTS")  # a directory: keep screenshots to look at


def _seed(server: LiveServer, subjects: list[str]) -> None:
    settings = server.app.state.settings
    with transaction(server.app.state.writer) as session:
        for subject in subjects:
            tickets_service.create_ticket(
                session, actor=Principal.system(),
                data=TicketCreate(subject=subject, team_id=server.ids["team"]),
                number_pattern=settings.ticket_number_pattern, timezone=settings.timezone,
            )  # fmt: skip


@pytest.mark.parametrize("width", [1280, 375])
def test_tick_two_tickets_and_set_them_pending(
    browser: Browser, live_server: LiveServer, width: int
) -> None:
    subjects = [f"Bulk {width} washer {i}" for i in range(3)]
    _seed(live_server, subjects)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    page: Page = context.new_page()
    try:
        log_in(page, live_server)
        page.goto(f"{live_server.url}/inbox?view=team&q=Bulk {width}")
        bar = page.locator("#bulk-form")
        expect(bar).to_be_hidden()
        for subject in subjects[:2]:
            page.locator("tr", has_text=subject).locator("input[name=ids]").check()
        expect(bar).to_be_visible()
        expect(bar.locator(".picked")).to_have_text("2 selected")
        bar.locator("select[name=status]").select_option("pending")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/bulk-bar-{width}.png", full_page=True)
        bar.locator("button[type=submit]").click()
        expect(page.locator("#bulk-result")).to_contain_text("Changed: 2")
        expect(bar).to_be_hidden()  # the list reloaded without ticks
        for subject in subjects[:2]:
            expect(page.locator("tr", has_text=subject)).to_contain_text("Pending")
        expect(page.locator("tr", has_text=subjects[2])).to_contain_text("New")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/bulk-done-{width}.png", full_page=True)
    finally:
        context.close()
