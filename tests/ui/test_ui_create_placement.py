"""The agent's (and the portal's) new-ticket page places the system fields where the type's
form puts them, and picking another type redraws the whole form its way, keeping what was
typed."""

from __future__ import annotations

from fastapi import FastAPI

from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.fields.registry import service as fields_service
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.schemas import TicketTypeUpdate
from support_fields import add_field, publish_type

from .conftest import Browser

TZ = "Asia/Shanghai"


def _type(app: FastAPI, key: str, layout: list[str]) -> None:
    with transaction(app.state.reader) as session:
        if not fields_service.list_fields(session, "ticket"):
            add_field(app, "ticket", "model", "text", "型号")
    publish_type(app, key, {"fields": [{"key": "model"}],
                            "layouts": {"agent_create": [{"fields": layout}]}})  # fmt: skip


def _positions(html: str, names: list[str]) -> list[int]:
    return [html.index(f'name="{n}"') for n in names]


def test_system_fields_follow_the_types_layout(app: FastAPI, agent: Browser) -> None:
    _type(app, "phone_desk", ["customer", "priority", "subject", "model", "description"])
    _type(app, "web_desk", ["subject", "description", "model", "customer"])
    phone = agent.get("/tickets/new?type=phone_desk").text
    name, priority, subject, description = _positions(
        phone, ["customer_name", "priority", "subject", "description"]
    )
    assert name < priority < subject < description
    web = agent.get("/tickets/new?type=web_desk").text
    subject, description, name = _positions(web, ["subject", "description", "customer_name"])
    assert subject < description < name
    assert 'name="team_id"' in web  # not placed: still offered, after the placed ones


def test_another_type_redraws_the_form_keeping_what_was_typed(app: FastAPI, agent: Browser) -> None:
    _type(app, "phone_desk", ["customer", "priority", "subject"])
    _type(app, "web_desk", ["subject", "customer"])
    posted = {"type": "web_desk", "subject": "空调漏水", "customer_name": "陈静",
              "priority": "high", "description": "客厅", "channel": "phone"}  # fmt: skip
    response = agent.post("/tickets/new/form", posted, htmx=True)
    assert response.status_code == 200, response.text
    html = response.text
    assert 'id="new-ticket"' in html
    subject, name = _positions(html, ["subject", "customer_name"])
    assert subject < name
    assert 'value="空调漏水"' in html
    assert 'value="陈静"' in html
    assert '<option value="high" selected' in html
    assert "客厅" in html
    assert agent.post("/tickets/new/form", posted, htmx=True, with_token=False).status_code == 403


def test_the_portal_page_follows_the_types_portal_layout(app: FastAPI, sign_in_as: object) -> None:
    add_field(app, "ticket", "model", "text", "型号")
    portal = [{"fields": ["description", "model", "subject"]}]
    publish_type(app, "self_help", {"fields": [{"key": "model"}], "layouts": {"portal": portal}})
    with transaction(app.state.writer) as session:
        ticket_types.update_type(session, actor=Principal.system(), key="self_help",
                                 data=TicketTypeUpdate(public=True))  # fmt: skip
    customer = sign_in_as("customer1")  # type: ignore[operator]
    html = customer.get("/tickets/new?type=self_help").text
    description, subject = _positions(html, ["description", "subject"])
    assert description < subject  # the designer put the description first for customers
    assert 'name="team_id"' not in html  # and customers still get only their own inputs
