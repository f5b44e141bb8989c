"""Timers on workflow statuses (issue 4): queued as durable jobs when a ticket enters the
status, they remind, approve or reject the open approval, hand it over, or take a step — and
do nothing once the ticket has moved on, even if it came back since."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.test_approvals import COMPLAINT, _ask, _round, _status

from fuwu.db import transaction
from fuwu.jobs.models import DomainEvent, Job
from fuwu.jobs.worker import Worker
from fuwu.kit.time import utcnow
from fuwu.workflows.timers import KIND


@pytest.fixture
def publish(client, factory, api_as):
    """Publishes the complaint process with these timers (status → list); the admin's headers."""
    admin = api_as(factory.user("admin"))
    client.post(
        "/api/v1/statuses",
        headers=admin,
        json={
            "key": "review",
            "category": "pending",
            "label_zh": "待审批",
            "label_en": "In review",
        },
    )

    def run(timers: dict[str, Any], **approval: Any):
        definition = copy.deepcopy(COMPLAINT)
        definition["timers"] = timers
        definition["approvals"]["review"].update(approval)
        client.put("/api/v1/workflows/complaint/draft", json={"definition": definition},
                   headers=admin)  # fmt: skip
        return client.post("/api/v1/workflows/complaint/publish", json={"note": "时限"},
                           headers=admin)  # fmt: skip

    return run


def _timers(app) -> list[Job]:
    with transaction(app.state.reader) as session:
        return list(session.scalars(select(Job).where(Job.kind == KIND).order_by(Job.id)))


def _run_due(app, hours: float) -> None:
    """Let `hours` pass for the queued timers, and run what is due."""
    now = utcnow()
    with transaction(app.state.writer) as session:
        for job in session.scalars(select(Job).where(Job.kind == KIND, Job.state == "queued")):
            job.run_at = job.run_at - timedelta(hours=hours)
            if job.run_at <= now:
                job.run_at = now
    Worker(app.state.writer, lease_seconds=30, name="timers").run_until_idle()


def test_an_approval_is_reminded_then_approved_by_its_timers(app, client, factory, api_as, publish):
    answer = publish({"review": [{"after_hours": 24, "action": "remind"},
                                 {"after_hours": 72, "action": "approve"}]})  # fmt: skip
    assert answer.status_code == 200, answer.text
    factory.user("supervisor")
    agent = api_as(factory.user("agent"))
    ticket = factory.ticket("超时未审批")
    before = utcnow()
    _ask(client, ticket.id, agent)
    queued = _timers(app)
    assert [round((j.run_at - before).total_seconds() / 3600) for j in queued] == [24, 72]

    _run_due(app, 25)
    with transaction(app.state.reader) as session:
        named = select(DomainEvent.name).where(DomainEvent.name == "approval.reminded")
        reminded = session.scalars(named).all()
    assert len(reminded) == 1
    assert _status(client, ticket.id, agent) == "review"

    _run_due(app, 72)
    assert _status(client, ticket.id, agent) == "closed"
    approval = _round(client, ticket.id, agent)
    assert approval["state"] == "approved"
    history = client.get(f"/api/v1/tickets/{ticket.id}/history", headers=agent).json()
    assert (history[-1]["actor_name"], history[-1]["reasons"]["status"]) == (
        "system",
        "workflow:approve_close",
    )
    assert {j.state for j in _timers(app)} == {"done"}


def test_a_timer_hands_the_approval_over(app, client, factory, api_as, publish):
    deputy = factory.user("agent")
    assert publish({"review": [{"after_hours": 8, "action": "transfer",
                                "user": deputy.id}]}).status_code == 200  # fmt: skip
    boss = factory.user("supervisor")
    agent = api_as(factory.user("agent"))
    ticket = factory.ticket("主管休假")
    _ask(client, ticket.id, agent)
    _run_due(app, 9)
    votes = [(v["user_id"], v["state"]) for v in _round(client, ticket.id, agent)["votes"]]
    assert votes == [(boss.id, "transferred"), (deputy.id, "pending")]


def test_a_timer_takes_a_step_and_forgets_a_ticket_that_moved_on(
    app, client, factory, api_as, publish
):
    assert publish({"pending": [{"after_hours": 48, "action": "step", "step": "resume"}]}
                   ).status_code == 200  # fmt: skip
    agent = api_as(factory.user("agent"))
    waiting, moved = factory.ticket("等客户回复"), factory.ticket("客户已回复")
    for ticket in (waiting, moved):
        client.post(f"/api/v1/tickets/{ticket.id}/transitions/wait", json={}, headers=agent)
    # The second one moves on and comes back: the first timer owes it nothing any more.
    client.post(f"/api/v1/tickets/{moved.id}/transitions/resume", json={}, headers=agent)
    client.post(f"/api/v1/tickets/{moved.id}/transitions/wait", json={}, headers=agent)
    assert len(_timers(app)) == 3
    with transaction(app.state.writer) as session:  # only the first two timers are due
        first, second, _ = _timers(app)
        session.execute(update(Job).where(Job.id.in_([first.id, second.id]))
                        .values(run_at=utcnow()))  # fmt: skip
    Worker(app.state.writer, lease_seconds=30, name="timers").run_until_idle()
    assert _status(client, waiting.id, agent) == "open"
    assert _status(client, moved.id, agent) == "pending"


def test_publishing_checks_the_timers(client, factory, api_as, publish):
    answer = publish({
        "limbo": [{"after_hours": 1, "action": "remind"}],
        "open": [{"after_hours": 1, "action": "step", "step": "resume"},
                 {"after_hours": 2, "action": "approve"}],
        "review": [{"after_hours": 3, "action": "transfer"},
                   {"after_hours": 4, "action": "transfer", "user": 999999}],
    })  # fmt: skip
    assert answer.status_code == 422
    fields = {f["field"]: f["code"] for f in answer.json()["error"]["fields"]}
    assert fields == {
        "timers.limbo": "not_in_workflow",
        "timers.open[0].step": "not_from_status",
        "timers.open[1].action": "not_approval",
        "timers.review[0].user": "missing",
        "timers.review[1].user": "not_found",
    }
