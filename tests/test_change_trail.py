"""Every write of a ticket leaves the same trail: a history row, a domain event and an audit row,
together, whichever entry point made the change (issue 16: they all go through
`tickets.pipeline.apply_change`). A customer's reply that reopens a ticket used to write history
only, so an SLA clock would never resume; the web pages wrote their own way."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fuwu.audit.models import AuditEntry
from fuwu.db import transaction
from fuwu.jobs.models import DomainEvent
from fuwu.tickets.models import TicketEvent
from support_cli import run_fuwu
from support_web import signed_in


def _trail(app: Any, ticket_id: int, after: tuple[int, int, int]) -> dict[str, Any]:
    """The history, events and audit rows of the ticket newer than the given ids."""
    with transaction(app.state.reader) as session:
        history = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.id > after[0])
        ).all()
        events = session.scalars(
            select(DomainEvent).where(
                DomainEvent.entity_id == ticket_id, DomainEvent.id > after[1],
                DomainEvent.name == "ticket.updated",
            )
        ).all()  # fmt: skip
        audits = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "ticket", AuditEntry.entity_id == str(ticket_id),
                AuditEntry.id > after[2],
            )
        ).all()  # fmt: skip
        return {
            "history": [h.changes for h in history],
            "events": [e.payload["changes"] for e in events],
            "audit": [(a.action, a.before, a.after) for a in audits],
        }


def _marks(app: Any) -> tuple[int, int, int]:
    with transaction(app.state.reader) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(model.id).order_by(model.id.desc()).limit(1)) or 0
            for model in (TicketEvent, DomainEvent, AuditEntry)
        )


def _api_patch(client: TestClient, world: dict[str, Any]) -> None:
    response = client.patch(
        f"/api/v1/tickets/{world['ticket']}", json={"status": "open"}, headers=world["agent"]
    )
    assert response.status_code == 200, response.text


def _agent_sidebar(client: TestClient, world: dict[str, Any]) -> None:
    token = signed_in(client, world["agent_name"])
    response = client.post(
        f"/tickets/{world['ticket']}",
        data={"status": "open", "priority": "normal", "team_id": "", "assignee_id": "",
              "tags": "", "version": str(world["version"]), "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text


def _customer_reply(client: TestClient, world: dict[str, Any]) -> None:
    response = client.post(
        f"/api/v1/tickets/{world['ticket']}/messages",
        json={"body": "还是不行，又响了"}, headers=world["customer"],
    )  # fmt: skip
    assert response.status_code == 201, response.text


def _api_bulk(client: TestClient, world: dict[str, Any]) -> None:
    response = client.post(
        "/api/v1/tickets/bulk",
        json={"ids": [world["ticket"]], "changes": {"status": "open"}}, headers=world["agent"],
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["updated"] == 1, response.text


def _cli(client: TestClient, world: dict[str, Any]) -> None:
    result = run_fuwu(world["db_url"], world["tmp"], "ticket", "update", world["number"],
                      "--status", "open")  # fmt: skip
    assert result.returncode == 0, result.stderr


ENTRY_POINTS: dict[str, Callable[[TestClient, dict[str, Any]], None]] = {
    "cli": _cli,
    "api-update": _api_patch,
    "api-bulk": _api_bulk,
    "agent-sidebar": _agent_sidebar,
    "customer-reply-reopens": _customer_reply,
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_the_same_change_leaves_the_same_trail(
    client: TestClient,
    app: Any,
    factory: Any,
    api_as: Any,
    entry: str,
    db_url: str,
    tmp_path: Path,
) -> None:
    contact = factory.contact("陈静")
    agent = factory.user("agent")
    ticket = factory.ticket("洗衣机异响", customer=contact, status="pending")
    world = {
        "ticket": ticket.id,
        "number": ticket.number,
        "db_url": db_url,
        "tmp": tmp_path,
        "version": ticket.version,
        "agent": api_as(agent),
        "agent_name": agent.username,
        "customer": api_as(factory.customer_user(contact)),
    }
    before = _marks(app)
    ENTRY_POINTS[entry](client, world)
    trail = _trail(app, ticket.id, before)
    assert trail["history"] == [{"status": ["pending", "open"]}]
    assert trail["events"] == [{"status": ["pending", "open"]}]
    [(action, old, new)] = trail["audit"]
    assert action == "update"
    assert (old["status"], new["status"]) == ("pending", "open")


# ---------------------------------------------------------------- opening a ticket


def _api_create(client: TestClient, world: dict[str, Any]) -> int:
    response = client.post(
        "/api/v1/tickets", json={"subject": "热水器不点火"}, headers=world["agent"]
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _api_multipart(client: TestClient, world: dict[str, Any]) -> int:
    parts = [("data", (None, json.dumps({"subject": "热水器不点火"}), "application/json")),
             ("attachments", ("照片.txt", b"hello", "text/plain"))]  # fmt: skip
    response = client.post("/api/v1/tickets", files=parts, headers=world["agent"])
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _page_create(username: str) -> Callable[[TestClient, dict[str, Any]], int]:
    def create(client: TestClient, world: dict[str, Any]) -> int:
        token = signed_in(client, world[username])
        response = client.post(
            "/tickets/new",
            data={"subject": "热水器不点火", "priority": "normal", "csrf_token": token},
            files=[("attachments", ("照片.txt", b"hello", "text/plain"))],
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return int(response.headers["location"].rsplit("/", 1)[1])

    return create


CREATE_POINTS: dict[str, tuple[Callable[[TestClient, dict[str, Any]], int], str]] = {
    "api": (_api_create, "api"),
    "api-multipart": (_api_multipart, "api"),
    "agent-page": (_page_create("agent_name"), "web"),
    "portal-page": (_page_create("customer_name"), "portal"),
}


@pytest.mark.parametrize("entry", sorted(CREATE_POINTS))
def test_a_new_ticket_leaves_one_trail_whatever_the_entry_point(
    client: TestClient, app: Any, factory: Any, api_as: Any, entry: str
) -> None:
    """One history row, one `ticket.created` event and one audit row per ticket: files posted
    with it add none (the web form used to add a second row of each for them)."""
    contact = factory.contact("陈静")
    agent, customer = factory.user("agent"), factory.customer_user(contact)
    world = {"agent": api_as(agent), "agent_name": agent.username,
             "customer_name": customer.username}  # fmt: skip
    before = _marks(app)
    create, channel = CREATE_POINTS[entry]
    ticket_id = create(client, world)
    with transaction(app.state.reader) as session:
        history = session.scalars(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.id > before[0]
            )
        ).all()
        events = session.scalars(
            select(DomainEvent.name).where(
                DomainEvent.entity_id == ticket_id,
                DomainEvent.id > before[1],
                DomainEvent.name.like("ticket.%"),
            )
        ).all()
        audits = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "ticket", AuditEntry.entity_id == str(ticket_id),
                AuditEntry.id > before[2],
            )
        ).all()  # fmt: skip
    assert [(h.kind, h.changes) for h in history] == [
        ("created", {"channel": channel, "status": "new"})
    ]
    assert list(events) == ["ticket.created"]
    [audit] = audits
    assert (audit.action, audit.after["subject"]) == ("create", "热水器不点火")
