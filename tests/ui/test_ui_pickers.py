"""Search pickers for reference fields: the lookup answers with what an agent may see, by
name; a field that holds someone shows their name, not `#144`; customers cannot search."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from fuwu.auth.principal import Principal
from fuwu.customers import service as customers_service
from fuwu.customers.schemas import ContactCreate
from fuwu.db import transaction
from support_fields import engineer_type

from .conftest import Browser, sign_in
from .test_ui_inbox import open_ticket

TZ = "Asia/Shanghai"


def test_lookup_finds_people_teams_customers_and_tickets_by_name(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    with transaction(app.state.writer) as session:
        customers_service.create_contact(
            session, actor=Principal.system(),
            data=ContactCreate(name="陈静", phone="13800138000"),
        )  # fmt: skip
    mine = open_ticket(app, "空调漏水 in Support", team_id=people["team"])
    open_ticket(app, "空调漏水 in Billing", team_id=people["other_team"])
    users = agent.get("/lookup/user?q=zhang", htmx=True)
    assert users.status_code == 200
    assert f'data-id="{people["agent2"]}"' in users.text
    assert "Zhang Wei" in users.text
    assert "customer1" not in users.text  # staff only
    assert f'data-id="{people["team"]}"' in agent.get("/lookup/team?q=supp").text
    customers = agent.get("/lookup/customer?q=陈").text
    assert "陈静" in customers
    assert "+8613800138000" in customers
    tickets = agent.get("/lookup/ticket?q=空调漏水").text
    assert f'data-id="{mine}"' in tickets
    assert "Billing" not in tickets  # a ticket the agent may not see is not offered
    assert "Nothing found." in agent.get("/lookup/customer?q=nobody-like-this").text


@pytest.mark.parametrize(
    ("url", "status"), [("/lookup/planet?q=x", 422), ("/lookup/user?q=" + "x" * 101, 422)]
)
def test_bad_lookups_are_refused(agent: Browser, url: str, status: int) -> None:
    assert agent.get(url).status_code == status


def test_customers_cannot_search_people(app: FastAPI, client: Any) -> None:
    customer = sign_in(client, "customer1")
    response = customer.get("/lookup/user?q=a")
    assert response.status_code in (303, 403)
    assert "data-id" not in response.text


def test_a_user_field_is_a_picker_that_shows_the_name(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    engineer_type(app)
    ticket_id = open_ticket(app, "上门安装", type="visit", custom={"engineer": people["agent2"]})
    form = agent.get(f"/tickets/{ticket_id}/details/edit", htmx=True).text
    assert 'data-lookup="/lookup/user"' in form
    assert 'value="Zhang Wei"' in form  # the name, with the id kept in the number box
    assert f'name="engineer" type="number" class="picker-id" value="{people["agent2"]}"' in form
    new = agent.get("/tickets/new?type=visit").text
    assert 'data-lookup="/lookup/user"' in new
