"""Changing many tickets at once (POST /api/v1/tickets/bulk): each ticket goes through the
change pipeline on its own, one that cannot take the change is reported and loses nothing,
the others are still changed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fuwu.audit.models import AuditEntry
from fuwu.db import transaction
from fuwu.jobs.models import DomainEvent
from fuwu.tickets.models import TicketEvent
from support_fields import stored_ticket

URL = "/api/v1/tickets/bulk"


def _count(app: Any, model: type, *where: Any) -> int:
    with transaction(app.state.reader) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_each_ticket_is_changed_with_its_own_trail(
    client: TestClient, app: Any, factory: Any, api_as: Any
) -> None:
    team = factory.team("客服一组")
    agent = factory.user("agent", teams=[team])
    tickets = [factory.ticket(f"空调漏水 {i}", team=team) for i in range(3)]
    ids = [t.id for t in tickets]
    response = client.post(
        URL,
        json={"ids": ids, "changes": {"status": "pending", "priority": "high"}},
        headers=api_as(agent),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["updated"], body["unchanged"], body["failed"]) == (3, 0, 0)
    assert [r["id"] for r in body["results"]] == ids
    assert [r["number"] for r in body["results"]] == [t.number for t in tickets]
    for ticket_id in ids:
        ticket = stored_ticket(app, ticket_id)
        assert (ticket.status, ticket.priority, ticket.version) == ("pending", "high", 2)
        assert _count(app, TicketEvent, TicketEvent.ticket_id == ticket_id,
                      TicketEvent.kind == "updated") == 1  # fmt: skip
        assert _count(app, DomainEvent, DomainEvent.entity_id == ticket_id,
                      DomainEvent.name == "ticket.updated") == 1  # fmt: skip
        assert _count(app, AuditEntry, AuditEntry.entity_id == str(ticket_id),
                      AuditEntry.action == "update") == 1  # fmt: skip


def test_a_ticket_that_cannot_take_the_change_is_reported_and_the_others_change(
    client: TestClient, app: Any, factory: Any, api_as: Any
) -> None:
    """A ticket of another team the agent may not see fails as a single update would (not
    found: its existence is not revealed); one already pending is left unchanged."""
    mine, theirs = factory.team("客服一组"), factory.team("客服二组")
    agent = factory.user("agent", teams=[mine])
    visible = factory.ticket("热水器不点火", team=mine)
    already = factory.ticket("冰箱不制冷", team=mine, status="pending")
    hidden = factory.ticket("洗衣机异响", team=theirs)
    ids = [hidden.id, visible.id, already.id, visible.id]
    response = client.post(
        URL,
        json={"ids": ids, "changes": {"status": "pending"}},
        headers=api_as(agent, lang="zh-CN"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["updated"], body["unchanged"], body["failed"]) == (1, 1, 1)
    failed, changed, unchanged = body["results"]  # the duplicate id is changed once
    assert failed["id"] == hidden.id
    assert failed["number"] is None
    assert failed["error"]["code"] == "not_found"
    assert "不存在" in failed["error"]["message"]
    assert (changed["result"], unchanged["result"]) == ("updated", "unchanged")
    assert stored_ticket(app, hidden.id).status == "new"
    assert _count(app, TicketEvent, TicketEvent.ticket_id == hidden.id,
                  TicketEvent.kind == "updated") == 0  # fmt: skip
    assert (
        _count(app, TicketEvent, TicketEvent.ticket_id == already.id, TicketEvent.kind == "updated")
        == 1
    )  # fmt: skip  (only its own pending)


def test_a_failing_ticket_leaves_nothing_half_written(
    client: TestClient, app: Any, factory: Any, api_as: Any
) -> None:
    """Assigning to someone outside a ticket's team fails that ticket with the field named;
    the ticket keeps its values and gains no history, event or audit row."""
    desk, station = factory.team("客服一组"), factory.team("朝阳服务站")
    engineer = factory.user("agent", teams=[station])
    supervisor = factory.user("supervisor", teams=[desk, station])
    at_desk = factory.ticket("空调漏水", team=desk)
    on_site = factory.ticket("空调不制冷", team=station)
    headers = api_as(supervisor)
    before = _count(app, AuditEntry)
    response = client.post(
        URL,
        json={"ids": [at_desk.id, on_site.id], "changes": {"assignee_id": engineer.id}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    failed, changed = response.json()["results"]
    assert failed["result"] == "failed"
    assert failed["error"]["code"] == "validation_failed"
    assert [f["field"] for f in failed["error"]["fields"]] == ["assignee_id"]
    assert changed["result"] == "updated"
    stayed = stored_ticket(app, at_desk.id)
    assert (stayed.assignee_id, stayed.status, stayed.version) == (None, "new", 1)
    assert stored_ticket(app, on_site.id).assignee_id == engineer.id
    assert _count(app, AuditEntry) == before + 1


def test_tags_are_added_and_removed_keeping_the_others(
    client: TestClient, app: Any, factory: Any, api_as: Any
) -> None:
    agent = factory.user("agent")
    first = factory.ticket("空调漏水", tags=["保内", "VIP"])
    second = factory.ticket("空调异响", tags=["保外"])
    response = client.post(
        URL,
        json={"ids": [first.id, second.id],
              "changes": {"add_tags": ["二次上门"], "remove_tags": ["保内", "保外"]}},
        headers=api_as(agent),
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert stored_ticket(app, first.id).tags == ["VIP", "二次上门"]
    assert stored_ticket(app, second.id).tags == ["二次上门"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": [], "changes": {"status": "open"}}, "ids"),
        ({"ids": list(range(1, 102)), "changes": {"status": "open"}}, "ids"),
        ({"ids": [1], "changes": {"status": "open", "version": 3}}, "changes.version"),
        ({"ids": [1], "changes": {"status": "gone"}}, "changes.status"),
        ({"ids": ["一"], "changes": {}}, "ids.0"),
    ],
)
def test_bad_requests_name_the_field_and_change_nothing(
    client: TestClient, factory: Any, api_as: Any, body: dict[str, Any], field: str
) -> None:
    response = client.post(URL, json=body, headers=api_as(factory.user("agent")))
    assert response.status_code == 422, response.text
    assert field in [f["field"] for f in response.json()["error"]["fields"]]


@pytest.mark.parametrize(
    ("who", "scopes", "status"),
    [
        ("anonymous", None, 401),
        ("customer", ("*",), 403),
        ("agent", ("tickets:read",), 403),
        ("agent", ("tickets:write",), 200),
        ("admin", ("*",), 200),
    ],
)
def test_who_may_change_tickets_in_bulk(
    client: TestClient, app: Any, factory: Any, api_as: Any, who: str, scopes: Any, status: int
) -> None:
    contact = factory.contact("陈静")
    ticket = factory.ticket("热水器不点火", customer=contact)
    headers = {}
    if who == "customer":
        headers = api_as(factory.customer_user(contact), scopes=scopes)
    elif who != "anonymous":
        headers = api_as(factory.user(who), scopes=scopes)
    response = client.post(
        URL, json={"ids": [ticket.id], "changes": {"status": "closed"}}, headers=headers
    )
    assert response.status_code == status, response.text
    assert (stored_ticket(app, ticket.id).status == "closed") == (status == 200)
