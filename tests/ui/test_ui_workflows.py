"""The workflow editor (issue 4): an administrator creates a workflow, picks its statuses, adds
steps in the table, sees them in the graph and publishes — a refusal lists every problem;
nobody else may open the pages."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from .conftest import Browser


def _step(admin: Browser, key: str, **fields: Any) -> Any:
    data = {"key": key, "label_zh": fields.pop("zh", key), **fields}
    return admin.client.post(f"/admin/workflows/{key_of(admin)}/transitions",
                             data={**data, "csrf_token": admin.token},
                             headers={"HX-Request": "true"})  # fmt: skip


def key_of(_: Browser) -> str:
    return "desk"


def test_an_admin_builds_and_publishes_a_workflow(app: FastAPI, sign_in_as: Any) -> None:
    admin = sign_in_as("admin")
    made = admin.post("/admin/workflows", {"key": "desk", "name_zh": "服务台", "name_en": "Desk",
                                           "types": "general", "initial": "new"})  # fmt: skip
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/admin/workflows/desk"
    saved = admin.post("/admin/workflows/desk/statuses",
                       {"statuses": "new", "initial": "new"}, htmx=True)  # fmt: skip
    assert saved.status_code == 200
    both = admin.client.post("/admin/workflows/desk/statuses", data={
        "statuses": ["new", "open", "closed"], "initial": "new", "csrf_token": admin.token},
        headers={"HX-Request": "true"})  # fmt: skip
    assert both.status_code == 200, both.text

    taken = _step(admin, "take", zh="受理", **{"from": "new", "to": "open", "roles": "agent"})
    assert taken.status_code == 200, taken.text
    assert 'id="step-take"' in taken.text
    graph = json.loads(taken.text.split("data-graph='")[1].split("'")[0].replace("&#34;", '"'))
    assert {(e["from"], e["to"]) for e in graph["edges"]} == {("new", "open")}

    refused = admin.post("/admin/workflows/desk/publish", {"note": "首版"}, htmx=True)
    assert refused.status_code == 422
    assert "statuses[2]" in refused.text  # 已关闭 is reached by no step
    assert _step(admin, "close", zh="关闭", **{"from": "open", "to": "closed"}).status_code == 200
    done = admin.post("/admin/workflows/desk/publish", {"note": "首版"}, htmx=True)
    assert done.status_code == 200, done.text
    assert "Published v1" in done.text
    assert "desk" in admin.get("/admin/workflows").text

    gone = admin.post("/admin/workflows/desk/transitions/close/delete", {}, htmx=True)
    assert 'id="step-close"' not in gone.text
    assert "Draft (v2)" in gone.text


def test_bad_input_is_named(app: FastAPI, sign_in_as: Any) -> None:
    admin = sign_in_as("admin")
    admin.post("/admin/workflows", {"key": "desk", "name_zh": "服务台", "initial": "new"})
    bad_guard = _step(admin, "x", **{"from": "new", "to": "new", "guard": "{not json"})
    assert bad_guard.status_code == 422
    bad_key = _step(admin, "Bad Key", **{"from": "new", "to": "new"})
    assert bad_key.status_code == 422
    twice = admin.post("/admin/workflows", {"key": "desk", "name_zh": "again", "initial": "new"})
    assert twice.status_code == 422
    broken = admin.post("/admin/workflows/desk/definition", {"definition": "[1, 2"}, htmx=True)
    assert broken.status_code == 422


def test_only_admins_open_the_editor(app: FastAPI, agent: Browser, sign_in_as: Any) -> None:
    admin = sign_in_as("admin")
    admin.post("/admin/workflows", {"key": "desk", "name_zh": "服务台", "initial": "new"})
    for url in ("/admin/workflows", "/admin/workflows/desk"):
        assert agent.get(url).status_code in (403, 404)
    refused = agent.post("/admin/workflows/desk/transitions", {"key": "x"}, htmx=True)
    assert refused.status_code in (403, 404)


def test_open_tickets_move_to_the_new_version_from_the_editor(
    app: FastAPI, sign_in_as: Any, people: dict[str, int]
) -> None:
    from .test_ui_inbox import open_ticket

    admin = sign_in_as("admin")
    admin.post("/admin/workflows", {"key": "desk", "name_zh": "服务台", "types": "general",
                                    "initial": "new"})  # fmt: skip
    admin.client.post("/admin/workflows/desk/statuses", data={
        "statuses": ["new", "pending", "closed"], "initial": "new", "csrf_token": admin.token},
        headers={"HX-Request": "true"})  # fmt: skip
    _step(admin, "wait", **{"from": "new", "to": "pending"})
    _step(admin, "close", **{"from": ["new", "pending"], "to": "closed"})
    assert admin.post("/admin/workflows/desk/publish", {"note": "v1"}, htmx=True).status_code == 200
    ticket_id = open_ticket(app, "等客户", team_id=people["team"])
    admin.post(f"/tickets/{ticket_id}/transitions/wait", {"version": "1"}, htmx=True)
    # Version 2 drops 挂起.
    admin.client.post("/admin/workflows/desk/statuses", data={
        "statuses": ["new", "closed"], "initial": "new", "csrf_token": admin.token},
        headers={"HX-Request": "true"})  # fmt: skip
    admin.post("/admin/workflows/desk/transitions/wait/delete", {}, htmx=True)
    _step(admin, "close", **{"from": "new", "to": "closed"})
    assert admin.post("/admin/workflows/desk/publish", {"note": "v2"}, htmx=True).status_code == 200

    preview = admin.get("/admin/workflows/desk/migration", htmx=True)
    assert "1 open tickets run on older versions" in preview.text
    assert 'name="map.pending"' in preview.text
    picked = admin.post("/admin/workflows/desk/migration", {"map.pending": "new"}, htmx=True)
    assert 'name="apply"' in picked.text
    assert '<input type="hidden" name="map.pending" value="new">' in picked.text
    moved = admin.post("/admin/workflows/desk/migration", {"map.pending": "new", "apply": "1"},
                       htmx=True)  # fmt: skip
    assert "Moved 1 tickets to v2." in moved.text
    assert "Every open ticket runs on the newest version (v2)." in moved.text
