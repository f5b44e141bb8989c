"""The ticket UI in a real browser: sign in, create, reply, find it; live inbox updates."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from fuwu.auth import service as auth_service
from fuwu.db import transaction
from fuwu.tickets import service as tickets_service
from fuwu.tickets.schemas import TicketCreate, TicketUpdate

from .conftest import LiveServer, log_in

pytestmark = pytest.mark.browser


def test_sign_in_create_reply_and_find_in_inbox(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server)
    page.get_by_role("link", name="New ticket").first.click()
    page.fill("#f-subject", "")
    page.get_by_role("button", name="Create ticket").click()
    expect(page.locator("#err-subject")).to_be_visible()  # a 422 re-render swapped by htmx

    page.fill("#f-subject", "Elevator stuck on floor 3")
    page.fill("#f-description", "Two people inside, alarm rings.")
    page.select_option("#f-priority", "urgent")
    page.fill("#f-customer_name", "Chen Jing")
    page.fill("#f-customer_email", "chen.jing@example.com")
    page.get_by_role("button", name="Create ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    expect(page.locator("h1")).to_have_text("Elevator stuck on floor 3")

    page.fill("#reply-body", "A technician is on the way.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#timeline")).to_contain_text("A technician is on the way.")
    expect(page.locator("#reply-body")).to_have_value("")

    page.check("input[name=kind][value=note]")
    page.fill("#reply-body", "Call the building manager too.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#timeline .msg.note")).to_contain_text("Call the building manager too.")

    page.select_option("#s-status", "pending")  # the version moved with each reply: no 409
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#ticket-header")).to_contain_text("Pending")
    expect(page.locator("#flash")).to_be_empty()

    page.goto(f"{live_server.url}/inbox?view=all&status=pending")
    expect(page.locator("#ticket-list")).to_contain_text("Elevator stuck on floor 3")
    expect(page.locator("#ticket-list")).to_contain_text("Chen Jing")


def test_stale_edit_shows_conflict_message(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server)
    ticket_id = _create_ticket(live_server, "Water leak in server room")
    page.goto(f"{live_server.url}/tickets/{ticket_id}")
    _create_ticket(live_server, "unrelated")  # other tickets do not matter
    with transaction(live_server.app.state.writer) as session:
        admin = auth_service.principal_for(
            session, auth_service.get_user(session, live_server.ids["admin"])
        )
        tickets_service.update_ticket(
            session,
            actor=admin,
            ticket_id=ticket_id,
            data=TicketUpdate(priority="low"),
        )
    page.select_option("#s-status", "resolved")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#flash")).to_contain_text("Someone else changed this ticket")
    expect(page.locator("#ticket-header")).not_to_contain_text("Resolved")


def test_inbox_shows_a_ticket_created_elsewhere_without_reload(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server)
    page.goto(f"{live_server.url}/inbox?view=all")
    expect(page.locator("#ticket-list")).to_be_visible()
    page.wait_for_timeout(500)  # the event stream is open and has its baseline
    page.evaluate("window.__notReloaded = true")
    _create_ticket(live_server, "Created through the service")
    expect(page.locator("#ticket-list")).to_contain_text(
        "Created through the service", timeout=10_000
    )
    assert page.evaluate("window.__notReloaded") is True


def _create_ticket(server: LiveServer, subject: str) -> int:
    with transaction(server.app.state.writer) as session:
        admin = auth_service.principal_for(
            session, auth_service.get_user(session, server.ids["admin"])
        )
        ticket = tickets_service.create_ticket(
            session,
            actor=admin,
            data=TicketCreate(subject=subject, team_id=server.ids["team"]),
            number_pattern=server.app.state.settings.ticket_number_pattern,
            timezone=server.app.state.settings.timezone,
        )
        return ticket.id
