"""Signature and file fields on the new-ticket page in a real browser, on a 375 px phone: the
engineer has the customer sign with a finger, picks a photo, and one submission opens the
ticket with both files (issue 16)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from fuwu.db import transaction
from fuwu.demo import forms as demo_forms
from fuwu.tickets.models import Attachment, Ticket, TicketEvent
from fuwu.tickets.types.models import TicketType

from .conftest import LiveServer, log_in

pytestmark = pytest.mark.browser
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _with_demo_forms(server: LiveServer) -> None:
    with transaction(server.app.state.writer) as session:
        if session.scalar(select(TicketType.id).where(TicketType.key == "install")) is None:
            demo_forms.load(session, timezone=server.app.state.settings.timezone)


def _sign(page: Page) -> None:
    """A short stroke across the pad, as a finger would draw it."""
    canvas = page.locator(".sig-pad canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y = box["x"], box["y"] + box["height"] / 2
    page.mouse.move(x + 20, y)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(x + 20 + step * 22, y + (12 if step % 2 else -12))
    page.mouse.up()


def test_a_signature_drawn_on_a_phone_is_stored_with_the_ticket(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    _with_demo_forms(live_server)
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="en-US")
    page = context.new_page()
    try:
        log_in(page, live_server)
        page.goto(f"{live_server.url}/tickets/new?type=install")
        expect(page.locator(".sig-pad canvas")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, "the form scrolls sideways on a phone"
        page.fill("#f-subject", "Install the dishwasher")
        page.fill("input[name=product]", "Dishwasher D5")
        _sign(page)
        expect(page.locator(".sig-pad")).to_have_class(re.compile(r"\bsigned\b"))
        page.wait_for_function(
            "document.querySelector('.sig-pad input[type=file]').files.length === 1"
        )
        page.screenshot(path=str(tmp_path / "signature-375.png"), full_page=True)
        page.get_by_role("button", name="Create ticket").click()
        page.wait_for_url(re.compile(r".*/tickets/\d+$"))
        ticket_id = int(page.url.rsplit("/", 1)[1])
        # The details panel shows the signature itself, with who had it signed and when.
        signature = page.locator(".cf-files img.cf-thumb")
        expect(signature).to_be_visible()
        expect(page.locator(".cf-files")).to_contain_text("Wang Fang")
        # The thumbnail loads lazily: bring it into view and give it time to arrive, so a slow
        # fetch is not taken for a broken image.
        signature.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete", arg=signature.element_handle(), timeout=10_000
        )
        loaded = signature.evaluate("img => img.naturalWidth > 0")
        assert loaded, "the signature image does not load"
        page.screenshot(path=str(tmp_path / "signed-ticket-375.png"), full_page=True)
    finally:
        context.close()

    with transaction(live_server.app.state.reader) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        [signature_id] = [ticket.custom["customer_signature"]]
        signature = session.get(Attachment, signature_id)
        assert signature is not None
        assert (signature.ticket_id, signature.content_type) == (ticket_id, "image/png")
        assert signature.uploaded_by_id == live_server.ids["agent1"]  # who signed it in
        stored = live_server.app.state.store.open(signature.sha256).read(8)
        assert stored == PNG_SIGNATURE
        kinds = session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id))
        assert list(kinds) == ["created"]


def test_clearing_the_pad_sends_no_signature_and_editing_signs_later(
    page: Page, live_server: LiveServer
) -> None:
    _with_demo_forms(live_server)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/tickets/new?type=install")
    _sign(page)
    page.get_by_role("button", name="Clear").click()
    expect(page.locator(".sig-pad")).not_to_have_class(re.compile(r"\bsigned\b"))
    page.fill("#f-subject", "Install without a signature yet")
    page.fill("input[name=product]", "Oven O2")
    page.get_by_role("button", name="Create ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    ticket_id = int(page.url.rsplit("/", 1)[1])
    with transaction(live_server.app.state.reader) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.custom.get("customer_signature") is None

    # The installation is done: the engineer opens the details and has the customer sign.
    page.get_by_role("link", name="Edit details").click()
    expect(page.locator(".sig-pad canvas")).to_be_visible()
    _sign(page)
    page.wait_for_function("document.querySelector('.sig-pad input[type=file]').files.length === 1")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator(".cf-files img.cf-thumb")).to_be_visible()
    with transaction(live_server.app.state.reader) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        signature = session.get(Attachment, ticket.custom["customer_signature"])
        assert signature is not None
        assert (signature.ticket_id, signature.content_type) == (ticket_id, "image/png")
        kinds = session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id))
        assert list(kinds) == ["created", "updated"]
