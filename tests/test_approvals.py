"""Approval states of the process engine (issue 4, part 3): a complaint that needs a
supervisor's approval to close, decided by every mode, sent back, handed over, added to,
withdrawn and reminded, through the API; who may see and act on a round."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.tickets import pipeline
from fuwu.tickets.service import get_ticket
from fuwu.tickets.state import state_of
from fuwu.workflows import approvals


def _step(key: str, src: list[str], to: str, zh: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "from": src, "to": to, "label": {"zh_CN": zh, "en": key.title()}, **extra}


COMPLAINT: dict[str, Any] = {
    "name": {"zh_CN": "投诉流程", "en": "Complaint"},
    "types": ["general"],
    "statuses": ["open", "pending", "review", "closed"],
    "initial": "open",
    "transitions": [
        _step("wait", ["open"], "pending", "等待客户"),
        _step("resume", ["pending"], "open", "继续处理"),
        _step("ask_close", ["open", "pending"], "review", "申请结案"),
        _step("approve_close", ["review"], "closed", "同意结案"),
        _step("reject_close", ["review"], "open", "驳回"),
        _step("pull_back", ["review"], "open", "收回", who={"roles": ["admin"]}),
    ],
    "approvals": {
        "review": {"approvers": [{"role": "supervisor"}], "mode": "any",
                   "approve": "approve_close", "reject": "reject_close"},
    },
}  # fmt: skip


def _publish(client, admin, definition: dict[str, Any]):
    draft = client.put("/api/v1/workflows/complaint/draft", json={"definition": definition},
                       headers=admin)  # fmt: skip
    assert draft.status_code == 200, draft.text
    return client.post("/api/v1/workflows/complaint/publish", json={"note": "审批"}, headers=admin)


@pytest.fixture
def complaint(client, factory, api_as):
    """Publishes the complaint process with the approval rules given (a dict merged into the
    review state's); returns the admin's headers."""
    admin = api_as(factory.user("admin"))
    answer = client.post(
        "/api/v1/statuses",
        headers=admin,
        json={
            "key": "review",
            "category": "pending",
            "label_zh": "待审批",
            "label_en": "In review",
        },
    )
    assert answer.status_code == 201, answer.text

    def publish(**rules: Any) -> dict[str, str]:
        definition = copy.deepcopy(COMPLAINT)
        definition["approvals"]["review"].update(rules)
        published = _publish(client, admin, definition)
        assert published.status_code == 200, published.text
        return admin

    return publish


def _ask(client, ticket_id: int, headers) -> None:
    taken = client.post(f"/api/v1/tickets/{ticket_id}/transitions/ask_close", json={},
                        headers=headers)  # fmt: skip
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "review"


def _round(client, ticket_id: int, headers) -> dict[str, Any]:
    rounds = client.get(f"/api/v1/tickets/{ticket_id}/approvals", headers=headers)
    assert rounds.status_code == 200, rounds.text
    return rounds.json()[0]


def _decide(client, approval_id: int, headers, decision: str = "approve", comment: str = ""):
    return client.post(f"/api/v1/approvals/{approval_id}/decision", headers=headers,
                       json={"decision": decision, "comment": comment})  # fmt: skip


def _status(client, ticket_id: int, headers) -> str:
    return client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).json()["status"]


def test_a_supervisor_approves_from_the_inbox_and_the_ticket_closes(
    client, factory, api_as, complaint
):
    admin = complaint()
    boss = factory.user("supervisor")
    agent, supervisor = api_as(factory.user("agent")), api_as(boss)
    ticket = factory.ticket("快递员态度恶劣")
    _ask(client, ticket.id, agent)

    inbox = client.get("/api/v1/approvals", headers=supervisor).json()
    assert [(a["ticket_id"], a["status"], a["my_turn"]) for a in inbox] == [
        (ticket.id, "review", True)
    ]
    assert client.get("/api/v1/approvals", headers=agent).json() == []
    offered = client.get(f"/api/v1/tickets/{ticket.id}/transitions", headers=admin).json()
    assert [t["key"] for t in offered] == ["pull_back"]  # approvers decide, not buttons
    assert _decide(client, inbox[0]["id"], agent).status_code == 403

    done = _decide(client, inbox[0]["id"], supervisor, comment="已核实，同意结案")
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["state"], body["approved"], body["slots"]) == ("approved", 1, 1)
    assert body["votes"][0]["comment"] == "已核实，同意结案"
    assert _status(client, ticket.id, agent) == "closed"
    history = client.get(f"/api/v1/tickets/{ticket.id}/history", headers=agent).json()
    assert history[-1]["reasons"]["status"] == "workflow:approve_close"
    assert (history[-1]["kind"], history[-1]["actor_name"]) == ("approval", boss.display_name)
    again = _decide(client, inbox[0]["id"], supervisor)
    assert again.status_code == 409


def test_a_rejection_sends_the_ticket_back_by_the_reject_step(client, factory, api_as, complaint):
    complaint()
    agent, supervisor = api_as(factory.user("agent")), api_as(factory.user("supervisor"))
    ticket = factory.ticket("退款迟迟未到")
    _ask(client, ticket.id, agent)
    approval = _round(client, ticket.id, agent)
    assert approval["can_withdraw"] is True
    rejected = _decide(client, approval["id"], supervisor, "reject", "请先联系客户确认")
    assert rejected.json()["state"] == "rejected"
    assert _status(client, ticket.id, agent) == "open"


@pytest.mark.parametrize(
    ("mode", "decisions", "after_each"),
    [
        ("any", ["approve"], ["closed"]),
        ("any", ["reject"], ["open"]),
        ("all", ["approve", "approve", "approve"], ["review", "review", "closed"]),
        ("all", ["approve", "reject"], ["review", "open"]),
        ("ratio", ["approve", "reject", "approve"], ["review", "review", "closed"]),
        ("ratio", ["reject", "reject"], ["review", "open"]),
        ("sequential", ["approve", "approve", "approve"], ["review", "review", "closed"]),
    ],
)
def test_each_mode_adds_up_the_votes(
    client, factory, api_as, complaint, mode, decisions, after_each
):
    complaint(mode=mode, ratio=60)
    bosses = [factory.user("supervisor") for _ in range(3)]
    agent = api_as(factory.user("agent"))
    ticket = factory.ticket("多人会签")
    _ask(client, ticket.id, agent)
    approval_id = _round(client, ticket.id, agent)["id"]
    for boss, decision, expected in zip(bosses, decisions, after_each, strict=False):
        answer = _decide(client, approval_id, api_as(boss), decision)
        assert answer.status_code == 200, answer.text
        assert _status(client, ticket.id, agent) == expected


def test_in_sequence_only_the_next_approver_may_decide(client, factory, api_as, complaint):
    complaint(mode="sequential")
    first, second = factory.user("supervisor"), factory.user("supervisor")
    agent = api_as(factory.user("agent"))
    ticket = factory.ticket("依次审批")
    _ask(client, ticket.id, agent)
    approval_id = _round(client, ticket.id, agent)["id"]
    assert client.get("/api/v1/approvals", headers=api_as(second)).json() == []
    assert _decide(client, approval_id, api_as(second)).status_code == 403
    assert _decide(client, approval_id, api_as(first)).status_code == 200
    assert [a["id"] for a in client.get("/api/v1/approvals", headers=api_as(second)).json()] == [
        approval_id
    ]


def test_handing_over_and_adding_approvers(client, factory, api_as, complaint):
    complaint()
    boss, deputy, expert = (factory.user("supervisor"), factory.user("agent"),
                            factory.user("engineer"))  # fmt: skip
    agent = api_as(factory.user("agent"))
    ticket = factory.ticket("转交与加签")
    _ask(client, ticket.id, agent)
    approval_id = _round(client, ticket.id, agent)["id"]

    handed = client.post(f"/api/v1/approvals/{approval_id}/transfer", headers=api_as(boss),
                         json={"user": deputy.id, "comment": "我出差，请代批"})  # fmt: skip
    assert handed.status_code == 200, handed.text
    assert client.get("/api/v1/approvals", headers=api_as(boss)).json() == []
    assert _decide(client, approval_id, api_as(boss)).status_code == 403

    twice = client.post(f"/api/v1/approvals/{approval_id}/approvers", headers=api_as(deputy),
                        json={"user": deputy.id, "where": "before"})  # fmt: skip
    assert twice.status_code == 422
    before = client.post(f"/api/v1/approvals/{approval_id}/approvers", headers=api_as(deputy),
                         json={"user": expert.id, "where": "before"})  # fmt: skip
    assert before.status_code == 200, before.text
    assert _decide(client, approval_id, api_as(deputy)).status_code == 403  # the expert first
    assert _decide(client, approval_id, api_as(expert)).status_code == 200
    assert _status(client, ticket.id, agent) == "review"
    after = client.post(f"/api/v1/approvals/{approval_id}/approvers", headers=api_as(deputy),
                        json={"user": boss.id, "where": "after"})  # fmt: skip
    assert after.status_code == 200, after.text
    assert _decide(client, approval_id, api_as(deputy)).status_code == 200
    assert _status(client, ticket.id, agent) == "review"  # the boss added after still decides
    assert _decide(client, approval_id, api_as(boss)).status_code == 200
    assert _status(client, ticket.id, agent) == "closed"
    origins = [
        (v["user_id"], v["origin"], v["state"]) for v in _round(client, ticket.id, agent)["votes"]
    ]
    assert origins == [
        (expert.id, "added_before", "approved"),
        (boss.id, "workflow", "transferred"),
        (deputy.id, "transferred", "approved"),
        (boss.id, "added_after", "approved"),
    ]


def test_the_initiator_withdraws_only_before_anyone_decides(client, factory, api_as, complaint):
    complaint(mode="all")
    initiator, other = factory.user("agent"), api_as(factory.user("agent"))
    boss, boss2 = api_as(factory.user("supervisor")), api_as(factory.user("supervisor"))
    ticket = factory.ticket("撤回申请")
    client.post(f"/api/v1/tickets/{ticket.id}/transitions/wait", json={}, headers=api_as(initiator))
    _ask(client, ticket.id, api_as(initiator))
    approval_id = _round(client, ticket.id, boss)["id"]
    assert (
        client.post(f"/api/v1/approvals/{approval_id}/withdraw", headers=other).status_code == 403
    )
    withdrawn = client.post(f"/api/v1/approvals/{approval_id}/withdraw", headers=api_as(initiator))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn"
    assert _status(client, ticket.id, boss) == "pending"  # where it was sent from

    _ask(client, ticket.id, api_as(initiator))
    second = _round(client, ticket.id, boss)
    assert second["id"] != approval_id
    assert _decide(client, second["id"], boss).status_code == 200
    late = client.post(f"/api/v1/approvals/{second['id']}/withdraw", headers=api_as(initiator))
    assert late.status_code == 409
    assert _decide(client, second["id"], boss2).status_code == 200
    assert _status(client, ticket.id, boss) == "closed"


def test_sending_back_goes_to_an_earlier_status_only(client, factory, api_as, complaint):
    complaint()
    agent, supervisor = api_as(factory.user("agent")), api_as(factory.user("supervisor"))
    ticket = factory.ticket("退回重办")
    client.post(f"/api/v1/tickets/{ticket.id}/transitions/wait", json={}, headers=agent)
    _ask(client, ticket.id, agent)
    approval = _round(client, ticket.id, supervisor)
    assert approval["return_targets"] == ["pending", "open"]
    assert _round(client, ticket.id, agent)["return_targets"] == []  # not the agent's turn
    refused = client.post(f"/api/v1/approvals/{approval['id']}/send-back", headers=supervisor,
                          json={"status": "closed"})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "status"
    back = client.post(f"/api/v1/approvals/{approval['id']}/send-back", headers=supervisor,
                       json={"status": "open", "comment": "补充通话录音"})  # fmt: skip
    assert back.status_code == 200, back.text
    assert back.json()["state"] == "returned"
    assert _status(client, ticket.id, agent) == "open"


def test_remind_at_most_every_half_hour(client, factory, api_as, complaint):
    complaint()
    boss = factory.user("supervisor")
    agent = api_as(factory.user("agent"))
    ticket = factory.ticket("催办")
    _ask(client, ticket.id, agent)
    approval_id = _round(client, ticket.id, agent)["id"]
    reminded = client.post(f"/api/v1/approvals/{approval_id}/remind", headers=agent)
    assert reminded.status_code == 200, reminded.text
    assert reminded.json() == {"users": [boss.id]}
    assert client.post(f"/api/v1/approvals/{approval_id}/remind", headers=agent).status_code == 409


@pytest.mark.parametrize(
    ("empty", "status", "approver_role"),
    [("approve", "closed", None), ("reject", "open", None), ("admins", "review", "admin")],
)
def test_nobody_to_ask_follows_the_empty_policy(
    client, factory, api_as, complaint, empty, status, approver_role
):
    nobody = factory.team("空的班组")
    complaint(approvers=[{"team": nobody.id}], empty=empty)
    agent = api_as(factory.user("agent"))
    ticket = factory.ticket("没有审批人")
    taken = client.post(f"/api/v1/tickets/{ticket.id}/transitions/ask_close", json={},
                        headers=agent)  # fmt: skip
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == status
    votes = _round(client, ticket.id, agent)["votes"]
    assert [v["origin"] for v in votes] == (["admins"] if approver_role else [])


@pytest.mark.parametrize(
    ("policy", "state", "voters"), [("skip", "approved", 1), ("deny", "pending", 1),
                                    ("allow", "pending", 2)],
)  # fmt: skip
def test_an_initiator_who_is_an_approver(client, factory, api_as, complaint, policy, state, voters):
    complaint(mode="all", self_approval=policy)
    me, other = factory.user("supervisor"), factory.user("supervisor")
    ticket = factory.ticket("自己审批自己")
    _ask(client, ticket.id, api_as(me))
    approval = _round(client, ticket.id, api_as(me))
    assert len([v for v in approval["votes"] if v["state"] != "skipped"]) == voters
    assert approval["my_turn"] is (policy == "allow")
    if policy == "skip":
        assert _decide(client, approval["id"], api_as(other)).json()["state"] == "approved"
    else:
        assert approval["state"] == state


def test_leaving_the_state_another_way_cancels_the_round(client, factory, api_as, complaint):
    admin = complaint()
    agent, supervisor = api_as(factory.user("agent")), api_as(factory.user("supervisor"))
    ticket = factory.ticket("管理员收回")
    _ask(client, ticket.id, agent)
    pulled = client.post(f"/api/v1/tickets/{ticket.id}/transitions/pull_back", json={},
                         headers=admin)  # fmt: skip
    assert pulled.status_code == 200, pulled.text
    assert _round(client, ticket.id, agent)["state"] == "cancelled"
    assert client.get("/api/v1/approvals", headers=supervisor).json() == []


def test_bulk_approval_reports_each_round(client, factory, api_as, complaint):
    complaint()
    agent, supervisor = api_as(factory.user("agent")), api_as(factory.user("supervisor"))
    tickets = [factory.ticket(f"批量审批 {i}") for i in range(3)]
    for ticket in tickets:
        _ask(client, ticket.id, agent)
    ids = [_round(client, t.id, agent)["id"] for t in tickets]
    assert _decide(client, ids[1], supervisor).status_code == 200
    done = client.post("/api/v1/approvals/decisions", headers={**supervisor, "Accept-Language":
                       "zh-CN"}, json={"ids": [*ids, 999999], "decision": "approve"})  # fmt: skip
    assert done.status_code == 200, done.text
    answer = {d["id"]: (d["ok"], (d["error"] or {}).get("code")) for d in done.json()}
    assert answer == {ids[0]: (True, None), ids[1]: (False, "conflict"), ids[2]: (True, None),
                      999999: (False, "not_found")}  # fmt: skip
    assert "已经结束" in done.json()[1]["error"]["message"]
    assert {_status(client, t.id, agent) for t in tickets} == {"closed"}


def test_an_outcome_step_whose_condition_fails_keeps_the_vote_unsaid(
    client, factory, api_as, complaint
):
    definition = copy.deepcopy(COMPLAINT)
    definition["transitions"][3]["guard"] = {"field": "priority", "op": "ne", "value": "urgent"}
    admin = complaint()
    assert _publish(client, admin, definition).status_code == 200
    agent, supervisor = api_as(factory.user("agent")), api_as(factory.user("supervisor"))
    ticket = factory.ticket("紧急投诉", priority="urgent")
    _ask(client, ticket.id, agent)
    approval_id = _round(client, ticket.id, agent)["id"]
    refused = _decide(client, approval_id, supervisor)
    assert refused.status_code == 409
    again = _round(client, ticket.id, agent)
    assert (again["state"], again["votes"][0]["state"]) == ("pending", "pending")
    assert _status(client, ticket.id, agent) == "review"


def test_publishing_checks_the_approval_states(client, factory, api_as, complaint):
    admin = complaint()
    definition = copy.deepcopy(COMPLAINT)
    definition["approvals"] = {
        "review": {"approvers": [{"field": "subject"}, {"user": 999999}, {"role": "boss"}],
                   "approve": "ask_close", "reject": "nowhere"},
        "limbo": {"approvers": [{"role": "admin"}], "approve": "approve_close",
                  "reject": "reject_close"},
    }  # fmt: skip
    refused = _publish(client, admin, definition)
    assert refused.status_code == 422
    fields = {f["field"]: f["code"] for f in refused.json()["error"]["fields"]}
    assert fields == {
        "approvals.review.approve": "not_from_approval",
        "approvals.review.reject": "not_found",
        "approvals.review.approvers[0].field": "not_user_field",
        "approvals.review.approvers[1].user": "not_found",
        "approvals.review.approvers[2].role": "invalid_choice",
        "approvals.limbo": "not_in_workflow",
    }
    two = copy.deepcopy(COMPLAINT)
    two["approvals"]["review"]["approvers"] = [{"role": "admin", "team": 1}]
    shape = client.put("/api/v1/workflows/complaint/draft", json={"definition": two}, headers=admin)
    assert shape.status_code == 422


def test_a_ticket_created_straight_into_approval_opens_a_round(client, factory, api_as, complaint):
    definition = copy.deepcopy(COMPLAINT)
    definition["initial"] = "review"
    admin = complaint()
    assert _publish(client, admin, definition).status_code == 200
    boss, agent = api_as(factory.user("supervisor")), api_as(factory.user("agent"))
    created = client.post("/api/v1/tickets", json={"subject": "备件申请"}, headers=agent)
    assert created.status_code == 201, created.text
    approval = _round(client, created.json()["id"], boss)
    assert (approval["state"], approval["my_turn"]) == ("pending", True)
    # A supervisor's own request: they are its only approver, and "skip" approves it at once.
    own = client.post("/api/v1/tickets", json={"subject": "主管自己的申请"}, headers=boss)
    assert own.json()["status"] == "closed"


def test_a_change_through_the_pipeline_opens_rounds_for_every_entry_point(
    client, factory, complaint
):
    """Not only the API's steps: any change that moves a ticket into the approval state (here
    an admin's status edit through the pipeline, as the CLI or an import makes it)."""
    complaint()
    factory.user("supervisor")
    ticket = factory.ticket("命令行改状态")
    with transaction(factory.writer) as session:
        stored = get_ticket(session, actor=Principal.system(), ticket_id=ticket.id)
        pipeline.apply_change(
            session, actor=Principal.system(), before=state_of(stored),
            change=pipeline.Change({"status": "review"}), where=pipeline.Where("Asia/Shanghai"),
        )  # fmt: skip
    with transaction(factory.writer) as session:
        assert approvals.open_round(session, ticket.id) is not None


# Who may see and act on a round: (who, may read the round, may decide).
WHO = [
    ("the approver outside the ticket's team", 200, 200),
    ("an agent outside the team", 404, 404),
    ("an agent of the team, not an approver", 200, 403),
    ("the customer of the ticket", 404, 404),
    ("another customer", 404, 404),
]


@pytest.mark.parametrize(("who", "reads", "decides"), WHO)
def test_who_may_see_and_decide_a_round(client, factory, api_as, complaint, who, reads, decides):
    team = factory.team("投诉组")
    outsider_boss = factory.user("agent")
    complaint(approvers=[{"user": outsider_boss.id}])
    member = factory.user("agent", teams=[team])
    contact = factory.contact("李雷")
    ticket = factory.ticket("越级投诉", team=team, customer=contact)
    _ask(client, ticket.id, api_as(member))
    approval_id = _round(client, ticket.id, api_as(member))["id"]
    people = {
        WHO[0][0]: outsider_boss,
        WHO[1][0]: factory.user("agent"),
        WHO[2][0]: member,
        WHO[3][0]: factory.customer_user(contact),
        WHO[4][0]: factory.customer_user(),
    }
    headers = api_as(people[who])
    assert client.get(f"/api/v1/approvals/{approval_id}", headers=headers).status_code == reads
    assert _decide(client, approval_id, headers).status_code == decides


def test_a_status_locks_the_fields_its_workflow_names(client, factory, api_as, complaint):
    """字段权限: while a complaint waits for approval its priority and subject keep their
    values, whoever asks; back in handling they may change again."""
    definition = copy.deepcopy(COMPLAINT)
    definition["fields"] = {"review": {"priority": "read", "subject": "hidden"}}
    admin = complaint()
    assert _publish(client, admin, definition).status_code == 200
    agent, supervisor = api_as(factory.user("agent")), api_as(factory.user("supervisor"))
    ticket = factory.ticket("审批中不许改优先级")
    _ask(client, ticket.id, agent)
    locked = client.patch(f"/api/v1/tickets/{ticket.id}", json={"priority": "urgent"},
                          headers={**admin, "Accept-Language": "zh-CN"})  # fmt: skip
    assert locked.status_code == 422
    [field] = locked.json()["error"]["fields"]
    assert (field["field"], field["code"]) == ("priority", "locked_in_status")
    assert "不能修改" in field["message"]
    assert client.patch(f"/api/v1/tickets/{ticket.id}", json={"description": "补充说明"},
                        headers=agent).status_code == 200  # fmt: skip
    approval_id = _round(client, ticket.id, agent)["id"]
    assert _decide(client, approval_id, supervisor, "reject").status_code == 200
    assert client.patch(f"/api/v1/tickets/{ticket.id}", json={"priority": "urgent"},
                        headers=agent).status_code == 200  # fmt: skip

    unknown = copy.deepcopy(COMPLAINT)
    unknown["fields"] = {"review": {"no_such_field": "read"}, "limbo": {"priority": "read"}}
    refused = _publish(client, admin, unknown)
    fields = {f["field"]: f["code"] for f in refused.json()["error"]["fields"]}
    assert fields == {"fields.review.no_such_field": "not_found",
                      "fields.limbo": "not_in_workflow"}  # fmt: skip
