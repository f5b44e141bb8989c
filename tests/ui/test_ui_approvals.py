"""Approvals in the agent UI (issue 4): the ticket page's approval panel, the "my approvals"
inbox with bulk decisions, and who may act from them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI

from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.workflows import service as workflows
from fuwu.workflows import statuses

from .conftest import Browser
from .test_ui_inbox import open_ticket


def _step(key: str, src: list[str], to: str, zh: str, en: str) -> dict[str, Any]:
    return {"key": key, "from": src, "to": to, "label": {"zh_CN": zh, "en": en}}


@pytest.fixture
def complaint(app: FastAPI, people: dict[str, int]) -> None:
    """Closing a complaint needs Zhang Wei's (agent2's) approval."""
    admin = Principal.system()
    definition = {
        "name": {"zh_CN": "投诉", "en": "Complaint"},
        "types": ["general"],
        "statuses": ["open", "review", "closed"],
        "initial": "open",
        "transitions": [
            _step("ask_close", ["open"], "review", "申请结案", "Ask to close"),
            _step("approve_close", ["review"], "closed", "同意结案", "Close"),
            _step("reject_close", ["review"], "open", "驳回", "Back to work"),
        ],
        "approvals": {"review": {"approvers": [{"user": people["agent2"]}],
                                 "approve": "approve_close", "reject": "reject_close"}},
        "timers": {"review": [{"after_hours": 48, "action": "approve"}]},
    }  # fmt: skip
    with transaction(app.state.writer) as session:
        statuses.create_status(
            session,
            actor=admin,
            data={
                "key": "review",
                "category": "pending",
                "label_zh": "待审批",
                "label_en": "In review",
            },
        )
        workflows.save_draft(session, actor=admin, key="complaint", raw=definition)
        workflows.publish(session, actor=admin, key="complaint", note="first")


def _ask(agent: Browser, ticket_id: int) -> int:
    asked = agent.post(f"/tickets/{ticket_id}/transitions/ask_close", {"version": "1"}, htmx=True)
    assert asked.status_code == 200, asked.text
    assert "Waiting for approval" in asked.text
    assert "Who moves it on: Zhang Wei" in asked.text
    assert ": approve by itself" in asked.text  # the timer, with when it runs
    found = re.search(rf"/tickets/{ticket_id}/approvals/(\d+)/remind", asked.text)
    assert found, "the initiator may remind the approver"
    return int(found.group(1))


def test_the_approver_decides_on_the_ticket_page(
    app: FastAPI, agent: Browser, sign_in_as: Any, people: dict[str, int], complaint: None
) -> None:
    ticket_id = open_ticket(app, "投诉快递员", team_id=people["team"])
    approval_id = _ask(agent, ticket_id)
    base = f"/tickets/{ticket_id}/approvals/{approval_id}"
    assert f'action="{base}/approve"' not in agent.get(f"/tickets/{ticket_id}").text
    approver = sign_in_as("agent2")
    page = approver.get(f"/tickets/{ticket_id}").text
    assert f'action="{base}/approve"' in page
    assert f"{base}/transfer" in page
    refused = approver.post(f"{base}/send-back", {"status": ""}, htmx=True)
    assert refused.status_code == 422
    rejected = approver.post(f"{base}/reject", {"comment": "先联系客户"}, htmx=True)
    assert rejected.status_code == 200, rejected.text
    assert "Rejected" in rejected.text
    assert "先联系客户" in rejected.text
    assert 'class="approval approval-rejected"' in rejected.text


def test_my_approvals_lists_what_waits_and_approves_in_bulk(
    app: FastAPI, agent: Browser, sign_in_as: Any, people: dict[str, int], complaint: None
) -> None:
    tickets = [open_ticket(app, f"批量 {i}", team_id=people["team"]) for i in range(2)]
    ids = [_ask(agent, t) for t in tickets]
    approver = sign_in_as("agent2")
    inbox = approver.get("/approvals").text
    assert all(f'value="{i}"' in inbox for i in ids)
    assert "My approvals" in inbox
    assert "Nothing waits for your approval." in agent.get("/approvals").text
    done = approver.client.post("/approvals/decisions", data={
        "ids": [str(i) for i in ids] + ["999999"], "decision": "approve", "comment": "同意",
        "csrf_token": approver.token}, headers={"HX-Request": "true"})  # fmt: skip
    assert done.status_code == 200, done.text
    assert "Decided: 2" in done.text
    assert "Not decided: 1" in done.text
    assert "Nothing waits for your approval." in done.text
    assert "Closed" in approver.get(f"/tickets/{tickets[0]}").text


def test_who_may_act_on_a_round_from_the_pages(
    app: FastAPI, agent: Browser, sign_in_as: Any, people: dict[str, int], complaint: None
) -> None:
    ticket_id = open_ticket(app, "越权审批", team_id=people["team"])
    approval_id = _ask(agent, ticket_id)
    base = f"/tickets/{ticket_id}/approvals/{approval_id}"
    outsider = sign_in_as("outsider")
    assert outsider.post(f"{base}/approve", {}, htmx=True).status_code == 404
    assert agent.post(f"{base}/approve", {}, htmx=True).status_code == 403
    other = open_ticket(app, "别的工单", team_id=people["team"])
    approver = sign_in_as("agent2")
    wrong = approver.post(f"/tickets/{other}/approvals/{approval_id}/approve", {}, htmx=True)
    assert wrong.status_code == 404
    customer = sign_in_as("customer1")
    assert customer.get("/approvals").status_code in (403, 404)
    assert customer.post(f"{base}/approve", {}, htmx=True).status_code in (403, 404)
    withdrawn = agent.post(f"{base}/withdraw", {}, htmx=True)
    assert withdrawn.status_code == 200, withdrawn.text
    assert "Withdrawn" in withdrawn.text


def test_the_page_links_a_child_ticket_and_its_parent(
    app: FastAPI, agent: Browser, people: dict[str, int]
) -> None:
    admin = Principal.system()
    definition = {
        "name": {"zh_CN": "报修", "en": "Repair"}, "types": ["general"],
        "statuses": ["open", "pending", "closed"], "initial": "open",
        "transitions": [{"key": "order", "from": ["open"], "to": "pending",
                         "label": {"zh_CN": "申请备件", "en": "Order parts"},
                         "children": [{"type": "general", "subject": "备件：{subject}"}]},
                        {"key": "close", "from": ["open", "pending"], "to": "closed",
                         "label": {"zh_CN": "完工", "en": "Done"}}],
        "close_with_open_children": True,
    }  # fmt: skip
    with transaction(app.state.writer) as session:
        workflows.save_draft(session, actor=admin, key="repair", raw=definition)
        workflows.publish(session, actor=admin, key="repair", note="first")
    ticket_id = open_ticket(app, "压缩机", team_id=people["team"])
    taken = agent.post(f"/tickets/{ticket_id}/transitions/order", {"version": "1"}, htmx=True)
    assert taken.status_code == 200, taken.text
    assert "Child tickets" in taken.text
    child = re.search(r'<a href="/tickets/(\d+)">[^<]+</a>\s*<span class="badge', taken.text)
    assert child, "the child is listed with its status"
    page = agent.get(f"/tickets/{child.group(1)}").text
    assert f'<a href="/tickets/{ticket_id}" class="parent-link">' in page
    assert "备件：压缩机" in page
