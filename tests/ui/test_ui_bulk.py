"""The inbox bulk bar: tick tickets, pick what to change, apply; what could not change is
listed with why, in the agent's language, and the rest is changed."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from support_fields import stored_ticket

from .conftest import Browser, sign_in
from .test_ui_inbox import open_ticket


def test_the_inbox_offers_ticks_and_a_bar_to_staff_only(
    app: FastAPI, agent: Browser, client: TestClient, people: dict[str, int]
) -> None:
    ticket_id = open_ticket(app, "空调漏水", team_id=people["team"])
    page = agent.get("/inbox?view=team").text
    assert 'id="bulk-form"' in page
    assert f'name="ids" value="{ticket_id}" form="bulk-form"' in page
    assert "data-pick-all" in page
    client.cookies.clear()
    customer = sign_in(client, "customer1")
    assert 'id="bulk-form"' not in customer.get("/inbox").text


def test_applying_changes_the_ticked_tickets_and_reloads_the_list(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    first = open_ticket(app, "空调漏水", team_id=people["team"], tags=["保内"])
    second = open_ticket(app, "热水器不点火", team_id=people["team"])
    untouched = open_ticket(app, "冰箱异响", team_id=people["team"])
    data: Any = {"ids": [str(first), str(second)], "status": "pending", "priority": "",
                 "team_id": "", "assignee_id": str(people["agent2"]), "add_tags": "回访，VIP",
                 "remove_tags": "保内", "back": "/inbox?view=team"}  # fmt: skip
    response = agent.post("/tickets/bulk", data, htmx=True)
    assert response.status_code == 200, response.text
    assert response.headers["HX-Trigger"] == "bulk-done"
    assert "Changed: 2" in response.text
    for ticket_id in (first, second):
        ticket = stored_ticket(app, ticket_id)
        assert (ticket.status, ticket.assignee_id) == ("pending", people["agent2"])
        assert ticket.priority == "normal"  # "keep"
        assert ticket.team_id == people["team"]
    assert stored_ticket(app, first).tags == ["回访", "VIP"]
    assert stored_ticket(app, untouched).status == "new"


def test_what_could_not_change_is_listed_with_why_in_chinese(
    app: FastAPI, sign_in_as: Any, people: dict[str, int]
) -> None:
    """agent2 cannot see Billing's ticket (not found); an outsider cannot be the assignee of
    Support's ticket (not in its team); nothing of either is written."""
    agent = sign_in_as("agent2")
    agent.post("/lang", {"locale": "zh_CN", "next": "/inbox"})
    ours = open_ticket(app, "空调漏水", team_id=people["team"])
    theirs = open_ticket(app, "发票问题", team_id=people["other_team"])
    data: Any = {"ids": [str(ours), str(theirs)], "assignee_id": str(people["outsider"])}
    response = agent.post("/tickets/bulk", data, htmx=True)
    assert response.status_code == 200, response.text
    assert "未能修改 2 张" in response.text
    assert "不存在" in response.text
    assert "Some fields" not in response.text
    assert stored_ticket(app, ours).assignee_id is None
    assert stored_ticket(app, theirs).assignee_id is None


def test_bad_choices_are_refused_naming_the_field(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    ticket_id = open_ticket(app, "空调漏水", team_id=people["team"])
    data: Any = {"ids": [str(ticket_id)], "status": "gone"}
    response = agent.post("/tickets/bulk", data, htmx=True)
    assert response.status_code == 422
    assert "status" in response.text.lower()
    nothing: Any = {"ids": [], "status": "closed"}
    assert agent.post("/tickets/bulk", nothing, htmx=True).status_code == 422
    assert stored_ticket(app, ticket_id).status == "new"


def test_without_the_csrf_token_nothing_changes(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    ticket_id = open_ticket(app, "空调漏水", team_id=people["team"])
    data: Any = {"ids": [str(ticket_id)], "status": "closed"}
    response = agent.post("/tickets/bulk", data, htmx=True, with_token=False)
    assert response.status_code == 403
    assert stored_ticket(app, ticket_id).status == "new"


def test_a_customer_cannot_post_to_the_bulk_bar(
    app: FastAPI, client: TestClient, people: dict[str, int]
) -> None:
    ticket_id = open_ticket(app, "空调漏水", customer_id=people["contact"])
    customer = sign_in(client, "customer1")
    data: Any = {"ids": [str(ticket_id)], "status": "closed"}
    assert customer.post("/tickets/bulk", data, htmx=True).status_code == 403
    assert stored_ticket(app, ticket_id).status == "new"


def test_without_javascript_the_result_is_a_page_with_the_way_back(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    ticket_id = open_ticket(app, "空调漏水", team_id=people["team"])
    data: Any = {"ids": [str(ticket_id)], "status": "open", "back": "https://evil.example/x"}
    response = agent.post("/tickets/bulk", data)
    assert response.status_code == 200, response.text
    assert "<html" in response.text
    assert 'href="/inbox"' in response.text  # not the foreign address it was given
