"""The change pipeline's decider interface (issue 16, ARCHITECTURE.md "One way to write a ticket").

The engines (workflow, SLA, rules, dispatch) plug in as deciders. These tests install small
deciders of their own and show, through the API a user calls, that a decision is written with
the change in the same transaction, recorded in the same history row with its reason, that its
side effects are queued as jobs, that a decider can refuse a change (nothing is written), and
that deciders which never settle are stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fuwu.db import transaction
from fuwu.errors import ValidationFailed
from fuwu.fields.deciders import Action, Decision, Proposal
from fuwu.jobs.models import DomainEvent, Job
from fuwu.tickets.models import Ticket, TicketEvent


class Triage:
    """Leaks are urgent and go to the plumbing team, with a text to the on-call engineer."""

    name = "rules"

    def __init__(self, team_id: int) -> None:
        self.team_id = team_id
        self.seen: list[tuple[str, str | None, str]] = []

    def decide(self, session: Session, proposal: Proposal) -> Decision | None:
        before = proposal.before["status"] if proposal.before else None
        self.seen.append((proposal.cause, before, proposal.after["status"]))
        if "漏水" not in proposal.after["subject"]:
            return None
        return Decision(
            values={"priority": "urgent", "team": self.team_id},
            reason="规则：漏水加急",
            actions=(
                Action(
                    "notify.oncall", {"text": "漏水"}, key=f"oncall:{proposal.after['subject']}"
                ),
            ),
        )


class Refuse:
    name = "workflow"

    def decide(self, session: Session, proposal: Proposal) -> Decision | None:
        if proposal.after["status"] == "closed":
            raise ValidationFailed.single("status", "not_settable")
        return None


class Flip:
    """Undoes whatever the other one did: never settles."""

    name = "flip"

    def decide(self, session: Session, proposal: Proposal) -> Decision | None:
        return Decision({"priority": "low" if proposal.after["priority"] == "high" else "high"})


def _client(make_app: Callable[..., FastAPI], *deciders: Any) -> TestClient:
    return TestClient(make_app(deciders=deciders))


def _count(app: FastAPI, model: Any) -> int:
    with transaction(app.state.reader) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_decision_is_written_with_the_change_and_its_reason(
    make_app: Callable[..., FastAPI], factory: Any, api_as: Any
) -> None:
    team = factory.team("管道组")
    triage = Triage(team.id)
    with _client(make_app, triage) as client:
        headers = api_as(factory.user("admin"))  # sees every team's tickets
        response = client.post(
            "/api/v1/tickets", json={"subject": "厨房漏水", "priority": "normal"}, headers=headers
        )
        assert response.status_code == 201, response.text
        ticket = response.json()
        assert (ticket["priority"], ticket["team"]["name"]) == ("urgent", "管道组")
        history = client.get(f"/api/v1/tickets/{ticket['id']}/history", headers=headers).json()
        assert history[0]["reasons"] == {"priority": "规则：漏水加急", "team_id": "规则：漏水加急"}
        with transaction(client.app.state.reader) as session:  # type: ignore[attr-defined]
            job = session.scalars(select(Job).where(Job.kind == "notify.oncall")).one()
        assert job.payload == {"text": "漏水", "ticket_id": ticket["id"]}

        # An edit goes through the same deciders: the decision is recorded as the agent's
        # change, in one history row, one event and one audit row, with the reason.
        other = client.post("/api/v1/tickets", json={"subject": "门锁坏了"}, headers=headers).json()
        assert other["priority"] == "normal"
        changed = client.patch(
            f"/api/v1/tickets/{other['id']}",
            json={"subject": "门锁坏了，地上漏水"},
            headers=headers,
        )
        assert changed.json()["priority"] == "urgent"
        history = client.get(f"/api/v1/tickets/{other['id']}/history", headers=headers).json()
        assert history[-1]["changes"]["priority"] == ["normal", "urgent"]
        assert history[-1]["reasons"]["priority"] == "规则：漏水加急"
        assert "subject" not in history[-1]["reasons"]  # the agent's own change has no reason
    assert ("created", None, "new") in triage.seen
    assert ("updated", "new", "new") in triage.seen


def test_deciders_see_a_customers_reopening_reply(
    make_app: Callable[..., FastAPI], factory: Any, api_as: Any
) -> None:
    triage = Triage(factory.team().id)
    contact = factory.contact("陈静")
    ticket = factory.ticket("洗衣机异响", customer=contact, status="resolved")
    with _client(make_app, triage) as client:
        response = client.post(
            f"/api/v1/tickets/{ticket.id}/messages",
            json={"body": "又响了"},
            headers=api_as(factory.customer_user(contact)),
        )
        assert response.status_code == 201, response.text
    assert triage.seen == [("reopened", "resolved", "open")]


def test_a_decider_refuses_and_nothing_is_written(
    make_app: Callable[..., FastAPI], factory: Any, api_as: Any
) -> None:
    ticket = factory.ticket("空调不制冷")
    with _client(make_app, Refuse()) as client:
        app = client.app
        trail = (_count(app, TicketEvent), _count(app, DomainEvent))  # type: ignore[arg-type]
        response = client.patch(
            f"/api/v1/tickets/{ticket.id}",
            json={"status": "closed", "priority": "high"},
            headers=api_as(factory.user("agent")),
        )
        assert response.status_code == 422
        assert response.json()["error"]["fields"][0]["field"] == "status"
        assert (_count(app, TicketEvent), _count(app, DomainEvent)) == trail  # type: ignore[arg-type]
        with transaction(app.state.reader) as session:  # type: ignore[attr-defined]
            stored = session.get(Ticket, ticket.id)
            assert stored is not None
            assert (stored.status, stored.priority, stored.version) == ("new", "normal", 1)


@pytest.mark.parametrize("path", ["create", "update"])
def test_deciders_that_never_settle_are_stopped(
    make_app: Callable[..., FastAPI], factory: Any, api_as: Any, path: str
) -> None:
    ticket = factory.ticket("热水器打不着火")
    with _client(make_app, Flip()) as client:
        before = _count(client.app, Ticket)  # type: ignore[arg-type]
        headers = api_as(factory.user("agent"))
        if path == "create":
            response = client.post("/api/v1/tickets", json={"subject": "新工单"}, headers=headers)
        else:
            response = client.patch(
                f"/api/v1/tickets/{ticket.id}", json={"subject": "改"}, headers=headers
            )
        assert response.status_code == 409
        assert "rules" in response.json()["error"]["message"]
        assert _count(client.app, Ticket) == before  # type: ignore[arg-type]
