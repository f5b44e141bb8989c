"""Child tickets of the process engine (issue 4): a step opens tickets of another type under
the ticket (备件申请 under a 报修), the parent waits for them and moves on by itself when the
last one closes, and may not close while one is open."""

from __future__ import annotations

import copy
from typing import Any

import pytest


def _step(key: str, src: list[str], to: str, zh: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "from": src, "to": to, "label": {"zh_CN": zh, "en": key.title()}, **extra}


REPAIR: dict[str, Any] = {
    "name": {"zh_CN": "报修", "en": "Repair"},
    "types": ["general"],
    "statuses": ["open", "waiting_parts", "closed"],
    "initial": "open",
    "transitions": [
        _step("order_parts", ["open"], "waiting_parts", "申请备件",
              children=[{"type": "parts", "subject": "备件申请：{subject}（{number}）",
                         "copy": ["customer", "priority"]}]),
        _step("parts_arrived", ["waiting_parts"], "open", "备件到货", automatic=True,
              guard={"field": "open_children", "op": "eq", "value": 0}),
        _step("give_up", ["waiting_parts"], "closed", "放弃维修"),
        _step("close", ["open"], "closed", "完工"),
    ],
}  # fmt: skip


@pytest.fixture
def admin(client, factory, api_as):
    headers = api_as(factory.user("admin"))
    made = client.post(
        "/api/v1/ticket-types",
        headers=headers,
        json={"key": "parts", "name": {"zh_CN": "备件申请", "en": "Parts"}},
    )
    assert made.status_code == 201, made.text
    answer = client.post("/api/v1/statuses", headers=headers, json={
        "key": "waiting_parts", "category": "pending", "label_zh": "等备件",
        "label_en": "Waiting for parts"})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return headers


def _publish(client, headers, definition: dict[str, Any]):
    client.put("/api/v1/workflows/repair/draft", json={"definition": definition}, headers=headers)
    return client.post("/api/v1/workflows/repair/publish", json={"note": "备件"}, headers=headers)


def _take(client, ticket_id: int, key: str, headers):
    return client.post(f"/api/v1/tickets/{ticket_id}/transitions/{key}", json={}, headers=headers)


def test_a_step_opens_a_child_and_the_parent_moves_on_when_it_closes(
    client, factory, api_as, admin
):
    assert _publish(client, admin, REPAIR).status_code == 200
    agent = api_as(factory.user("agent"))
    contact = factory.contact("赵敏")
    parent = factory.ticket("空调压缩机坏了", customer=contact, priority="high")

    taken = _take(client, parent.id, "order_parts", agent)
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "waiting_parts"
    [child] = client.get(f"/api/v1/tickets/{parent.id}/children", headers=agent).json()
    assert child["subject"] == f"备件申请：空调压缩机坏了（{parent.number}）"
    assert (child["type"], child["parent_id"], child["priority"]) == ("parts", parent.id, "high")
    assert child["customer"]["id"] == contact.id

    closing = _take(client, parent.id, "give_up", agent)
    assert closing.status_code == 409  # a child is still open
    assert "still open" in closing.json()["error"]["message"]

    done = client.patch(f"/api/v1/tickets/{child['id']}", json={"status": "closed"},
                        headers=agent)  # fmt: skip
    assert done.status_code == 200, done.text
    after = client.get(f"/api/v1/tickets/{parent.id}", headers=agent).json()
    assert after["status"] == "open"  # 备件到货, by itself
    history = client.get(f"/api/v1/tickets/{parent.id}/history", headers=agent).json()
    assert history[-1]["reasons"]["status"] == "workflow:parts_arrived"
    assert _take(client, parent.id, "close", agent).status_code == 200


def test_the_workflow_may_let_a_parent_close_with_open_children(client, factory, api_as, admin):
    lenient = copy.deepcopy(REPAIR)
    lenient["close_with_open_children"] = True
    assert _publish(client, admin, lenient).status_code == 200
    agent = api_as(factory.user("agent"))
    parent = factory.ticket("不修了")
    assert _take(client, parent.id, "order_parts", agent).status_code == 200
    assert _take(client, parent.id, "give_up", agent).status_code == 200


def test_publishing_checks_the_children_a_step_opens(client, factory, api_as, admin):
    broken = copy.deepcopy(REPAIR)
    broken["transitions"][0]["children"] = [{"type": "no_such_type"}]
    refused = _publish(client, admin, broken)
    assert refused.status_code == 422
    fields = {f["field"]: f["code"] for f in refused.json()["error"]["fields"]}
    assert fields == {"transitions[0].children[0].type": "not_found"}
    unknown = copy.deepcopy(REPAIR)
    unknown["transitions"][0]["children"] = [{"type": "parts", "copy": ["password", "status"]}]
    refused = _publish(client, admin, unknown)
    fields = {f["field"]: f["code"] for f in refused.json()["error"]["fields"]}
    assert fields == {"transitions[0].children[0].copy[0]": "not_settable",
                      "transitions[0].children[0].copy[1]": "not_settable"}  # fmt: skip


def test_children_are_listed_only_to_those_who_see_them(client, factory, api_as, admin):
    assert _publish(client, admin, REPAIR).status_code == 200
    team = factory.team("维修组")
    member = factory.user("agent", teams=[team])
    parent = factory.ticket("只给本组看", team=team)
    assert _take(client, parent.id, "order_parts", api_as(member)).status_code == 200
    listed = client.get(f"/api/v1/tickets/{parent.id}/children", headers=api_as(member))
    assert len(listed.json()) == 1
    outsider = api_as(factory.user("agent", teams=[factory.team("别的组")]))
    assert client.get(f"/api/v1/tickets/{parent.id}/children", headers=outsider).status_code == 404
