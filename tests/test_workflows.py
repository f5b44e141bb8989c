"""The process engine through the API: statuses, a workflow published with every check, and
tickets moved only by its steps — 403 who, 409 guard, 422 required field — plus automatic
steps and a customer's reply that reopens (issue 4)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

STATUSES = [
    ("received", "new", "待受理", "Received"),
    ("dispatched", "open", "已派工", "Dispatched"),
    ("onsite", "open", "上门中", "On site"),
    ("processing", "open", "处理中", "Processing"),
    ("checking", "pending", "待验收", "Awaiting check"),
    ("callback", "resolved", "待回访", "Awaiting call-back"),
    ("done", "closed", "已完结", "Done"),
]


def _step(key: str, src: list[str], to: str, zh: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "from": src, "to": to, "label": {"zh_CN": zh, "en": key.title()}, **extra}


REPAIR: dict[str, Any] = {
    "name": {"zh_CN": "报修流程", "en": "Repair"},
    "types": ["general"],
    "statuses": [s[0] for s in STATUSES],
    "initial": "received",
    "reopen": "processing",
    "transitions": [
        _step("dispatch", ["received"], "dispatched", "派工",
              who={"roles": ["supervisor"]}, require=["assignee"]),
        _step("auto_dispatch", ["received"], "dispatched", "自动派工", automatic=True,
              guard={"field": "assignee", "op": "not_empty"}),
        _step("depart", ["dispatched"], "onsite", "出发", who={"assignee": True}),
        _step("start", ["onsite"], "processing", "开始处理", who={"assignee": True}),
        _step("finish", ["processing"], "checking", "完工", who={"assignee": True},
              guard={"field": "priority", "op": "ne", "value": "urgent"}),
        _step("accept", ["checking"], "callback", "验收通过",
              who={"customer": True, "roles": ["supervisor"]}),
        _step("close", ["callback"], "done", "回访完成", set={"priority": "low"}),
    ],
}  # fmt: skip


@pytest.fixture
def repair(client, factory, api_as):
    """The repair process published for the general type; its admin's headers."""
    admin = api_as(factory.user("admin"))
    for key, category, zh, en in STATUSES:
        answer = client.post(
            "/api/v1/statuses",
            json={"key": key, "category": category, "label_zh": zh, "label_en": en},
            headers=admin,
        )
        assert answer.status_code == 201, answer.text
    draft = client.put("/api/v1/workflows/repair/draft", json={"definition": REPAIR}, headers=admin)
    assert draft.status_code == 200, draft.text
    published = client.post(
        "/api/v1/workflows/repair/publish", json={"note": "首版"}, headers=admin
    )
    assert published.status_code == 200, published.text
    return admin


def _take(client, ticket_id: int, key: str, headers, **values: Any):
    return client.post(
        f"/api/v1/tickets/{ticket_id}/transitions/{key}", json={"values": values}, headers=headers
    )


def _status(client, ticket_id: int, headers) -> str:
    return client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).json()["status"]


def test_a_new_ticket_starts_in_the_initial_status_and_may_not_ask_for_another(
    client, factory, api_as, repair
):
    agent = api_as(factory.user("agent"))
    created = client.post("/api/v1/tickets", json={"subject": "洗衣机漏水"}, headers=agent)
    assert created.status_code == 201, created.text
    assert (created.json()["status"], created.json()["status_category"]) == ("received", "new")
    refused = client.post(
        "/api/v1/tickets", json={"subject": "冰箱不制冷", "status": "done"}, headers=agent
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "status"


def test_the_whole_repair_loop_by_the_people_each_step_names(client, factory, api_as, repair):
    engineer = factory.user("engineer")
    supervisor = api_as(factory.user("supervisor"))
    contact = factory.contact("王芳")
    customer = api_as(factory.customer_user(contact))
    ticket = factory.ticket("空调不制冷", customer=contact)
    as_engineer = api_as(engineer)

    taken = _take(client, ticket.id, "dispatch", supervisor, assignee=engineer.id)
    assert taken.status_code == 200, taken.text
    assert (taken.json()["status"], taken.json()["assignee"]["id"]) == ("dispatched", engineer.id)
    offered = client.get(f"/api/v1/tickets/{ticket.id}/transitions", headers=as_engineer).json()
    assert [t["key"] for t in offered] == ["depart"]
    for key in ("depart", "start", "finish"):
        assert _take(client, ticket.id, key, as_engineer).status_code == 200, key
    assert _status(client, ticket.id, supervisor) == "checking"
    mine = client.get(f"/api/v1/tickets/{ticket.id}/transitions", headers=customer).json()
    assert [t["key"] for t in mine] == ["accept"]
    assert _take(client, ticket.id, "accept", customer).status_code == 200
    closed = _take(client, ticket.id, "close", supervisor)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["status_category"], body["priority"]) == ("done", "closed", "low")
    assert body["closed_at"] is not None

    history = client.get(f"/api/v1/tickets/{ticket.id}/history", headers=supervisor).json()
    reasons = [h.get("reasons", {}).get("status") for h in history if "status" in h["changes"]]
    assert reasons[-3:] == ["workflow:finish", "workflow:accept", "workflow:close"]


def test_a_step_refused_says_why_and_changes_nothing(client, factory, api_as, repair):
    agent_user, engineer = factory.user("agent"), factory.user("engineer")
    agent, supervisor = api_as(agent_user), api_as(factory.user("supervisor"))
    ticket = factory.ticket("热水器不点火")

    not_yours = _take(client, ticket.id, "dispatch", agent, assignee=engineer.id)
    assert not_yours.status_code == 403
    missing = _take(client, ticket.id, "dispatch", supervisor)
    assert missing.status_code == 422
    assert [f["field"] for f in missing.json()["error"]["fields"]] == ["assignee"]
    wrong_place = _take(client, ticket.id, "start", supervisor)
    assert wrong_place.status_code == 409
    unknown = _take(client, ticket.id, "teleport", supervisor)
    assert unknown.status_code == 404
    extra = _take(client, ticket.id, "dispatch", supervisor, assignee=engineer.id, priority="high")
    assert extra.status_code == 422
    assert _status(client, ticket.id, supervisor) == "received"

    # The guard: an urgent repair is not finished by the engineer alone.
    _take(client, ticket.id, "dispatch", supervisor, assignee=engineer.id)
    as_engineer = api_as(engineer)
    _take(client, ticket.id, "depart", as_engineer)
    _take(client, ticket.id, "start", as_engineer)
    client.patch(f"/api/v1/tickets/{ticket.id}", json={"priority": "urgent"}, headers=supervisor)
    guarded = _take(client, ticket.id, "finish", as_engineer)
    assert guarded.status_code == 409
    assert _status(client, ticket.id, supervisor) == "processing"


def test_a_status_edit_must_be_a_step(client, factory, api_as, repair):
    supervisor = api_as(factory.user("supervisor"))
    engineer = factory.user("engineer")
    ticket = factory.ticket("燃气灶打不着火")
    url = f"/api/v1/tickets/{ticket.id}"
    jump = client.patch(url, json={"status": "done"}, headers=supervisor)
    assert jump.status_code == 422
    assert jump.json()["error"]["fields"][0]["code"] == "no_transition"
    unknown = client.patch(url, json={"status": "nowhere"}, headers=supervisor)
    assert unknown.status_code == 422
    step = client.patch(url, json={"status": "dispatched", "assignee_id": engineer.id},
                        headers=supervisor)  # fmt: skip
    assert step.status_code == 200, step.text
    assert step.json()["status"] == "dispatched"


def test_assigning_takes_the_automatic_step(client, factory, api_as, repair):
    engineer = factory.user("engineer")
    agent = api_as(factory.user("agent"))
    ticket = factory.ticket("油烟机噪音大")
    moved = client.patch(
        f"/api/v1/tickets/{ticket.id}", json={"assignee_id": engineer.id}, headers=agent
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "dispatched"
    created = client.post(
        "/api/v1/tickets", json={"subject": "电视黑屏", "assignee_id": engineer.id}, headers=agent
    )
    assert created.json()["status"] == "dispatched"


def test_a_customer_reply_reopens_to_the_workflow_reopen_status(client, factory, api_as, repair):
    contact = factory.contact()
    customer = api_as(factory.customer_user(contact))
    supervisor = api_as(factory.user("supervisor"))
    engineer = factory.user("engineer")
    ticket = factory.ticket("净水器漏水", customer=contact)
    _take(client, ticket.id, "dispatch", supervisor, assignee=engineer.id)
    for key in ("depart", "start", "finish"):
        _take(client, ticket.id, key, api_as(engineer))
    _take(client, ticket.id, "accept", customer)
    assert _status(client, ticket.id, supervisor) == "callback"
    client.post(f"/api/v1/tickets/{ticket.id}/messages", json={"body": "又漏了"}, headers=customer)
    assert _status(client, ticket.id, supervisor) == "processing"


def _publish_problems(client, admin, definition: dict[str, Any]) -> dict[str, str]:
    client.put("/api/v1/workflows/broken/draft", json={"definition": definition}, headers=admin)
    answer = client.post("/api/v1/workflows/broken/publish", json={"note": "x"}, headers=admin)
    assert answer.status_code == 422, answer.text
    return {f["field"]: f["code"] for f in answer.json()["error"]["fields"]}


def test_publishing_refuses_a_workflow_that_would_strand_tickets(client, factory, api_as, repair):
    broken = copy.deepcopy(REPAIR)
    broken["types"] = ["complaint"]
    broken["transitions"] = [t for t in broken["transitions"] if t["key"] not in ("start", "close")]
    problems = _publish_problems(client, repair, broken)
    # onsite: nothing leads out; done: nothing leads there (processing is reached by a reopen)
    assert problems == {"statuses[2]": "no_way_out", "statuses[6]": "unreachable"}

    bad = copy.deepcopy(REPAIR)
    bad["transitions"][1]["guard"] = {"field": "no_such_field", "op": "not_empty"}
    bad["transitions"][0]["to"] = "nowhere"
    bad["transitions"][0]["who"] = {"roles": ["boss"]}
    problems = _publish_problems(client, repair, bad)
    assert problems["types[0]"] == "governed"  # general already follows "repair"
    assert problems["transitions[0].to"] == "not_in_workflow"
    assert problems["transitions[0].who.roles[0]"] == "invalid_choice"
    assert any(k.startswith("transitions[1].guard") for k in problems)


@pytest.mark.parametrize(
    ("role", "reads", "writes"),
    [("admin", 200, 201), ("supervisor", 200, 403), ("agent", 200, 403), ("customer", 403, 403)],
)
def test_who_may_read_and_change_statuses_and_workflows(
    client, factory, api_as, role, reads, writes
):
    headers = api_as(factory.user(role))
    assert client.get("/api/v1/statuses", headers=headers).status_code == reads
    assert client.get("/api/v1/workflows", headers=headers).status_code == reads
    made = client.post(
        "/api/v1/statuses",
        json={"key": f"s_{role}", "category": "open", "label_zh": "处理", "label_en": "Doing"},
        headers=headers,
    )
    assert made.status_code == writes
    draft = client.put("/api/v1/workflows/w/draft", json={"definition": REPAIR}, headers=headers)
    assert draft.status_code == (200 if writes == 201 else writes)


def test_a_status_keeps_its_category_and_checks_its_labels(client, factory, api_as):
    admin = api_as(factory.user("admin"))
    url = "/api/v1/statuses/pending"
    assert client.patch(url, json={"category": "closed"}, headers=admin).status_code == 409
    renamed = client.patch(url, json={"label_zh": "等待客户", "colour": "#123456"}, headers=admin)
    assert renamed.status_code == 200
    assert (renamed.json()["label_zh"], renamed.json()["category"]) == ("等待客户", "pending")
    bad = client.post(
        "/api/v1/statuses",
        json={"key": "Bad Key", "category": "sleeping", "label_zh": "", "label_en": "x"},
        headers=admin,
    )
    assert bad.status_code == 422
    assert {f["field"] for f in bad.json()["error"]["fields"]} >= {"key", "label_zh"}


def _without_onsite() -> dict[str, Any]:
    """Version 2 of the repair process: no 上门中 status, dispatched goes straight to 处理中."""
    shorter = copy.deepcopy(REPAIR)
    shorter["statuses"].remove("onsite")
    shorter["transitions"] = [
        t for t in shorter["transitions"] if "onsite" not in (t["to"], *t["from"])
    ] + [_step("go", ["dispatched"], "processing", "开始")]
    return shorter


def _on_site(client, factory, api_as) -> tuple[int, dict[str, str]]:
    """A repair dispatched and on site (v1); the engineer's headers."""
    engineer = factory.user("engineer")
    supervisor = api_as(factory.user("supervisor"))
    ticket = factory.ticket("洗碗机不排水")
    _take(client, ticket.id, "dispatch", supervisor, assignee=engineer.id)
    assert _take(client, ticket.id, "depart", api_as(engineer)).status_code == 200
    return ticket.id, api_as(engineer)


def test_a_ticket_stays_on_the_version_it_started_on(client, factory, api_as, repair):
    ticket_id, engineer = _on_site(client, factory, api_as)
    client.put("/api/v1/workflows/repair/draft", json={"definition": _without_onsite()},
               headers=repair)  # fmt: skip
    published = client.post("/api/v1/workflows/repair/publish", json={"note": "v2"},
                            headers=repair)  # fmt: skip
    assert published.status_code == 200, published.text
    assert published.json()["version"] == 2
    offered = client.get(f"/api/v1/tickets/{ticket_id}/transitions", headers=engineer).json()
    assert [t["key"] for t in offered] == ["start"]  # version 1's step out of 上门中
    assert _take(client, ticket_id, "start", engineer).status_code == 200

    supervisor = api_as(factory.user("supervisor"))
    fresh = factory.ticket("新工单走新版本")
    taken = _take(client, fresh.id, "dispatch", supervisor, assignee=factory.user("engineer").id)
    assert taken.status_code == 200, taken.text
    assert [t["key"] for t in client.get(f"/api/v1/tickets/{fresh.id}/transitions",
                                         headers=supervisor).json()] == ["go"]  # fmt: skip


def test_migrating_open_tickets_to_the_new_version(client, factory, api_as, repair):
    ticket_id, engineer = _on_site(client, factory, api_as)
    waiting = factory.ticket("还在待受理")
    client.put("/api/v1/workflows/repair/draft", json={"definition": _without_onsite()},
               headers=repair)  # fmt: skip
    client.post("/api/v1/workflows/repair/publish", json={"note": "v2"}, headers=repair)
    url = "/api/v1/workflows/repair/migrations"

    preview = client.post(url, json={}, headers={**repair, "Accept-Language": "zh-CN"})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["version"], body["tickets"], body["moved"]) == (2, 2, 0)
    assert [(m["from_status"], m["to_status"], m["count"]) for m in body["moves"]] == [
        ("received", "received", 1)
    ]
    [problem] = body["problems"]
    assert (problem["field"], problem["code"]) == ("mapping.onsite", "unmapped")
    assert "1 张" in problem["message"]
    refused = client.post(url, json={"apply": True}, headers=repair)
    assert refused.status_code == 422
    bad = client.post(url, json={"mapping": {"onsite": "mars"}}, headers=repair).json()
    assert {p["field"] for p in bad["problems"]} == {"mapping.onsite"}
    assert _status(client, ticket_id, engineer) == "onsite"  # a preview moves nothing

    done = client.post(url, json={"mapping": {"onsite": "processing"}, "apply": True},
                       headers=repair)  # fmt: skip
    assert done.status_code == 200, done.text
    assert (done.json()["moved"], done.json()["remaining"]) == (2, 0)
    assert _status(client, ticket_id, engineer) == "processing"
    assert _status(client, waiting.id, engineer) == "received"
    history = client.get(f"/api/v1/tickets/{ticket_id}/history", headers=repair).json()
    assert history[-1]["kind"] == "migrated"
    assert history[-1]["changes"]["workflow"] == ["repair@1", "repair@2"]
    assert history[-1]["reasons"]["status"] == "workflow:migrated"
    again = client.post(url, json={}, headers=repair).json()
    assert (again["tickets"], again["moves"], again["problems"]) == (0, [], [])
    agent = api_as(factory.user("supervisor"))
    assert client.post(url, json={}, headers=agent).status_code == 403


def test_publishing_refuses_to_strand_tickets_it_takes_over(client, factory, api_as, repair):
    """A workflow taking over a type whose open tickets are in statuses it lacks is refused,
    naming them and how many (its own tickets stay on their versions instead)."""
    made = client.post(
        "/api/v1/ticket-types",
        headers=repair,
        json={"key": "complaint", "name": {"zh_CN": "投诉", "en": "Complaint"}},
    )
    assert made.status_code == 201, made.text
    factory.ticket("投诉：师傅迟到", type="complaint")  # status new, no workflow yet
    takeover = copy.deepcopy(REPAIR)
    takeover["types"] = ["complaint"]
    client.put("/api/v1/workflows/complaints/draft", json={"definition": takeover}, headers=repair)
    answer = client.post("/api/v1/workflows/complaints/publish", json={"note": "x"}, headers=repair)
    assert answer.status_code == 422
    [error] = answer.json()["error"]["fields"]
    assert (error["field"], error["code"]) == ("statuses", "in_use")
    assert "new (1)" in error["message"]


def test_a_field_a_workflow_uses_is_listed_among_its_uses(client, factory, api_as):
    admin = api_as(factory.user("admin"))
    field = client.post(
        "/api/v1/fields",
        json={"key": "fault_code", "type": "text", "label": {"zh_CN": "故障码", "en": "Code"}},
        headers=admin,
    ).json()
    definition = copy.deepcopy(REPAIR)
    definition["types"] = ["nothing_yet"]
    definition["statuses"] = ["new", "open", "closed"]
    definition["initial"] = "new"
    definition.pop("reopen")
    definition["transitions"] = [
        _step("take", ["new"], "open", "受理", require=["fault_code"]),
        _step("close", ["open"], "closed", "关闭"),
    ]
    saved = client.put("/api/v1/workflows/simple/draft", json={"definition": definition},
                       headers=admin)  # fmt: skip
    assert saved.status_code == 200, saved.text
    uses = client.get(f"/api/v1/fields/{field['id']}/usages", headers=admin).json()
    assert [(u["kind"], u["key"], u["detail"]) for u in uses] == [("workflow", "simple", "take")]
