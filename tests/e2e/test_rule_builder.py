"""The form designer's condition builder in a real browser: once a field is chosen, only the
operators its type takes are offered, and a choice field's options are picked by label while
the rule stores their keys (issue 16, admin-grade tooling)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from fuwu.configs import service as configs
from fuwu.db import transaction
from fuwu.demo import forms as demo_forms
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.models import TicketType

from .conftest import LiveServer, log_in

pytestmark = pytest.mark.browser


def test_a_choice_condition_is_built_from_labels(page: Page, live_server: LiveServer) -> None:
    with transaction(live_server.app.state.writer) as session:
        if session.scalar(select(TicketType.id).where(TicketType.key == "install")) is None:
            demo_forms.load(session, timezone=live_server.app.state.settings.timezone)
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/forms/complaint?surface=agent_edit")
    page.locator("#rule-builder summary").click()
    builder = page.locator("#rule-builder")
    builder.locator("input[name=name]").fill("Refund claims need an amount")
    builder.locator("select[name=c-0-field]").select_option("complaint_category")

    operator = builder.locator("select[name=c-0-op]")
    expect(operator.locator("option[value=contains]")).to_be_disabled()  # text-only operator
    expect(operator.locator("option[value=gt]")).to_be_disabled()  # numbers and dates only
    expect(operator.locator("option[value=eq]")).to_be_enabled()
    value = builder.locator("select[name=c-0-value]")
    expect(value.locator("option")).to_contain_text(["Service attitude", "Delay", "Billing"])
    value.select_option(label="Billing")

    builder.locator("select[name=a-0-action]").select_option("require")
    builder.locator("select[name=a-0-fields]").select_option("claim_amount")
    builder.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Refund claims need an amount").first).to_be_visible()

    with transaction(live_server.app.state.reader) as session:
        draft = configs.draft(session, ticket_types.FORM, "complaint")
        assert draft is not None
        [rule] = [
            r for r in draft.definition["logic"] if r["name"] == "Refund claims need an amount"
        ]
    condition = {"field": "complaint_category", "op": "eq", "value": "billing"}
    assert rule["when"] == {"all": [condition]}  # stored by key, chosen by label
