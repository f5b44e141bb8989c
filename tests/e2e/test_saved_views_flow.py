"""In a real browser: build a filter on a custom field in the inbox, save it as a view, see it
listed and open it again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.schemas import FieldCreate
from fuwu.tickets import service as tickets_service
from fuwu.tickets.schemas import TicketCreate
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.schemas import TicketTypeCreate

from .conftest import LiveServer, log_in

pytestmark = pytest.mark.browser
TZ = "Asia/Shanghai"


def _seed(server: LiveServer) -> None:
    """A filterable select `leak_kind` on a type `plumbing`, and two tickets of it."""
    system = Principal.system()
    settings = server.app.state.settings
    choices = [{"key": k, "label": {"zh_CN": k, "en": k.title()}} for k in ("pipe", "roof")]
    with transaction(server.app.state.writer) as session:
        fields_service.create_field(
            session,
            actor=system,
            data=FieldCreate(
                key="leak_kind",
                type="select",
                label={"zh_CN": "漏水类型", "en": "Leak kind"},
                filterable=True,
                options={"choices": choices},
            ),
        )
        ticket_types.create_type(
            session,
            actor=system,
            data=TicketTypeCreate(key="plumbing", name={"zh_CN": "水管", "en": "Plumbing"}),
        )
        definition = {
            "fields": [{"key": "leak_kind"}],
            "layouts": {"agent_create": [{"fields": ["leak_kind"]}]},
        }
        ticket_types.save_draft(
            session, actor=system, key="plumbing", definition=definition, timezone=TZ
        )
        ticket_types.publish(session, actor=system, key="plumbing", timezone=TZ)
        for subject, kind in (("Pipe burst in basement", "pipe"), ("Roof drips", "roof")):
            tickets_service.create_ticket(
                session,
                actor=system,
                data=TicketCreate(
                    subject=subject,
                    type="plumbing",
                    team_id=server.ids["team"],
                    custom={"leak_kind": kind},
                ),
                number_pattern=settings.ticket_number_pattern,
                timezone=TZ,
                surface="agent_create",
            )


def test_build_a_custom_filter_save_it_and_find_it_listed(
    page: Page, live_server: LiveServer
) -> None:
    _seed(live_server)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/inbox?view=all")
    row = page.locator("#cond-builder .cond-row").first
    ops = row.locator("select.op")
    ops.select_option("starts_with")  # a text operator, chosen before the field
    row.locator("select[name=c-0-field]").select_option("leak_kind")
    expect(ops).not_to_have_value("starts_with")  # a select field cannot keep it
    expect(ops.locator("option[value=starts_with]")).to_be_hidden()  # not for a select field
    ops.select_option("eq")
    value = row.locator("select[name=c-0-value]")  # a choice field: picked by its label
    expect(value.locator("option")).to_have_text(["Pipe", "Roof"])
    value.select_option(label="Pipe")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#ticket-list")).to_contain_text("Pipe burst in basement")
    expect(page.locator("#ticket-list")).not_to_contain_text("Roof drips")

    page.get_by_text("Save as view").click()
    page.fill("#view-actions input[name=name]", "Burst pipes")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_url(re.compile(r".*/inbox\?view=\d+$"))
    tab = page.locator("nav.tabs a.user-view", has_text="Burst pipes")
    expect(tab).to_have_attribute("aria-current", "page")
    expect(page.locator("#ticket-list")).to_contain_text("Pipe burst in basement")
    expect(page.locator("#ticket-list")).not_to_contain_text("Roof drips")

    page.goto(f"{live_server.url}/inbox?view=all")
    expect(page.locator("#ticket-list")).to_contain_text("Roof drips")
    page.locator("nav.tabs a.user-view", has_text="Burst pipes").click()
    expect(page.locator("#ticket-list")).not_to_contain_text("Roof drips")
