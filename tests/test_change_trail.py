"""Every write of a ticket leaves the same trail: a history row, a `ticket.updated` event and an
audit row, together, whichever entry point made the change (issue 16, first slice: a customer's
reply that reopens a ticket used to write history only, so an SLA clock would never resume)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fuwu.audit.models import AuditEntry
from fuwu.db import transaction
from fuwu.jobs.models import DomainEvent
from fuwu.tickets.models import TicketEvent


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


def _customer_reply(client: TestClient, world: dict[str, Any]) -> None:
    response = client.post(
        f"/api/v1/tickets/{world['ticket']}/messages",
        json={"body": "还是不行，又响了"}, headers=world["customer"],
    )  # fmt: skip
    assert response.status_code == 201, response.text


ENTRY_POINTS: dict[str, Callable[[TestClient, dict[str, Any]], None]] = {
    "api-update": _api_patch,
    "customer-reply-reopens": _customer_reply,
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_the_same_change_leaves_the_same_trail(
    client: TestClient, app: Any, factory: Any, api_as: Any, entry: str
) -> None:
    contact = factory.contact("陈静")
    agent = factory.user("agent")
    ticket = factory.ticket("洗衣机异响", customer=contact, status="pending")
    world = {
        "ticket": ticket.id,
        "agent": api_as(agent),
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
