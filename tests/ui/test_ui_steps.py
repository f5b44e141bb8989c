"""The ticket page under a workflow: the steps this person may take as buttons (and nothing
else moves the status), a step's required field asked for in place, and a refusal that says
why in the reader's language (issue 4)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.workflows import service as workflows
from fuwu.workflows import statuses

from .conftest import Browser
from .test_ui_inbox import open_ticket

STEPS: dict[str, Any] = {
    "name": {"zh_CN": "维修", "en": "Repair"},
    "types": ["general"],
    "statuses": ["received", "fixing", "fixed"],
    "initial": "received",
    "transitions": [
        {"key": "dispatch", "from": ["received"], "to": "fixing", "who": {"roles": ["admin"]},
         "label": {"zh_CN": "派工", "en": "Dispatch"}, "require": ["assignee"]},
        {"key": "finish", "from": ["fixing"], "to": "fixed", "who": {"assignee": True},
         "label": {"zh_CN": "完工", "en": "Finish"}},
    ],
}  # fmt: skip


@pytest.fixture
def repair(app: FastAPI) -> None:
    admin = Principal.system()
    with transaction(app.state.writer) as session:
        for key, category, zh, en in (("received", "new", "待受理", "Received"),
                                      ("fixing", "open", "维修中", "Fixing"),
                                      ("fixed", "closed", "已修好", "Fixed")):  # fmt: skip
            statuses.create_status(
                session, actor=admin,
                data={"key": key, "category": category, "label_zh": zh, "label_en": en},
            )  # fmt: skip
        workflows.save_draft(session, actor=admin, key="repair", raw=STEPS)
        workflows.publish(session, actor=admin, key="repair", note="first")


def test_the_page_offers_exactly_my_steps_and_no_status_select(
    app: FastAPI, agent: Browser, sign_in_as: Any, people: dict[str, int], repair: None
) -> None:
    ticket_id = open_ticket(app, "空调不制冷", team_id=people["team"])
    page = agent.get(f"/tickets/{ticket_id}").text
    assert "No step is yours to take now." in page
    assert "Who moves it on: Administrator" in page  # where it is and who must act
    assert "Received · since" in page
    assert 'id="s-status"' not in page
    admin = sign_in_as("admin")
    page = admin.get(f"/tickets/{ticket_id}").text
    assert f'action="/tickets/{ticket_id}/transitions/dispatch"' in page
    assert "/transitions/finish" not in page
    assert 'name="assignee"' in page


def test_taking_a_step_moves_the_ticket_and_hands_on_the_next_one(
    app: FastAPI, agent: Browser, sign_in_as: Any, people: dict[str, int], repair: None
) -> None:
    ticket_id = open_ticket(app, "热水器不点火", team_id=people["team"])
    admin = sign_in_as("admin")
    url = f"/tickets/{ticket_id}/transitions/dispatch"
    taken = admin.post(url, {"assignee": str(people["agent1"]), "version": "1"}, htmx=True)
    assert taken.status_code == 200, taken.text
    assert "Fixing" in taken.text
    page = agent.get(f"/tickets/{ticket_id}").text
    assert f'action="/tickets/{ticket_id}/transitions/finish"' in page
    assert "Who moves it on: Wang Fang" in page  # the assignee, by name
    done = agent.post(f"/tickets/{ticket_id}/transitions/finish", {"version": "2"}, htmx=True)
    assert done.status_code == 200, done.text
    assert "Fixed" in done.text


def test_a_refused_step_says_why_and_moves_nothing(
    app: FastAPI, agent: Browser, sign_in_as: Any, people: dict[str, int], repair: None
) -> None:
    ticket_id = open_ticket(app, "冰箱异响", team_id=people["team"])
    admin = sign_in_as("admin")
    missing = admin.post(f"/tickets/{ticket_id}/transitions/dispatch", {"assignee": ""}, htmx=True)
    assert missing.status_code == 422
    assert "Assignee is required for this step" in missing.text
    not_mine = agent.post(f"/tickets/{ticket_id}/transitions/dispatch", {}, htmx=True)
    assert not_mine.status_code == 403
    assert "You may not take this step." in not_mine.text
    assert "Received" in agent.get(f"/tickets/{ticket_id}").text
