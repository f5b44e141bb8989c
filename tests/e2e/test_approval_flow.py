"""In a real browser, at desktop width and at 375 px: an agent asks to close a grievance, the
approval panel says who must decide; the administrator finds it under My approvals, approves
it with the bulk bar, and the ticket is closed."""

from __future__ import annotations

import os
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.tickets import service as tickets_service
from fuwu.tickets.schemas import TicketCreate
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.schemas import TicketTypeCreate
from fuwu.workflows import service as workflows
from fuwu.workflows import statuses

from .conftest import LiveServer, log_in

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("FUWU_TEST_SCREENSHOTS")


def _step(key: str, src: str, to: str, en: str) -> dict[str, Any]:
    return {"key": key, "from": [src], "to": to, "label": {"zh_CN": en, "en": en}}


def _grievances(server: LiveServer) -> None:
    """A ticket type of its own (the other browser tests keep free statuses) whose closing
    needs the administrator's approval; published once per server."""
    system = Principal.system()
    with transaction(server.app.state.writer) as session:
        if "grievance" in workflows.keys(session):
            return
        ticket_types.create_type(session, actor=system, data=TicketTypeCreate(
            key="grievance", name={"zh_CN": "投诉", "en": "Grievance"}))  # fmt: skip
        statuses.create_status(session, actor=system, data={
            "key": "in_review", "category": "pending", "label_zh": "待审批",
            "label_en": "In review"})  # fmt: skip
        workflows.save_draft(session, actor=system, key="grievance", raw={
            "name": {"zh_CN": "投诉", "en": "Grievance"}, "types": ["grievance"],
            "statuses": ["open", "in_review", "closed"], "initial": "open",
            "transitions": [_step("ask", "open", "in_review", "Ask to close"),
                            _step("approve", "in_review", "closed", "Close"),
                            _step("reject", "in_review", "open", "Back")],
            "approvals": {"in_review": {"approvers": [{"user": server.ids["admin"]}],
                                        "approve": "approve", "reject": "reject"}},
        })  # fmt: skip
        workflows.publish(session, actor=system, key="grievance", note="e2e")


def _ticket(server: LiveServer, subject: str) -> int:
    settings = server.app.state.settings
    with transaction(server.app.state.writer) as session:
        ticket = tickets_service.create_ticket(
            session, actor=Principal.system(),
            data=TicketCreate(subject=subject, type="grievance", team_id=server.ids["team"]),
            number_pattern=settings.ticket_number_pattern, timezone=settings.timezone,
        )  # fmt: skip
        return ticket.id


@pytest.mark.parametrize("width", [1280, 375])
def test_ask_for_approval_and_approve_it_from_my_approvals(
    browser: Browser, live_server: LiveServer, width: int
) -> None:
    _grievances(live_server)
    ticket_id = _ticket(live_server, f"Rude courier {width}")
    agent = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    admin = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    try:
        page: Page = agent.new_page()
        log_in(page, live_server)
        page.goto(f"{live_server.url}/tickets/{ticket_id}")
        page.get_by_role("button", name="Ask to close").click()
        panel = page.locator("#approval")
        expect(panel).to_contain_text("Waiting for approval")
        expect(page.locator(".step-who")).to_contain_text("Ada Admin")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/approval-asked-{width}.png", full_page=True)

        boss: Page = admin.new_page()
        log_in(boss, live_server, "admin")
        boss.goto(f"{live_server.url}/approvals")
        row = boss.locator("tr", has_text=f"Rude courier {width}")
        row.locator("input[name=ids]").check()
        boss.fill("#bulk-comment", "OK")
        boss.get_by_role("button", name="Approve the chosen").click()
        expect(boss.locator("#approvals-list .alert")).to_contain_text("Decided: 1")
        expect(boss.locator("tr", has_text=f"Rude courier {width}")).to_have_count(0)
        if SHOTS:
            boss.screenshot(path=f"{SHOTS}/approval-done-{width}.png", full_page=True)

        page.reload()
        expect(page.locator("#ticket-header")).to_contain_text("Closed")
        expect(page.locator("#approval")).to_contain_text("Approved")
    finally:
        agent.close()
        admin.close()
