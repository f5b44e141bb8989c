"""Saved views over the REST API: CRUD, who may see and change them, `?view=` on the ticket
list, stale conditions, and the field registry's usage list; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from fuwu.db import transaction
from fuwu.tickets.models import SavedView


def _l(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


LEAK = {"all": [{"field": "fault", "op": "eq", "value": "leak"}]}


@pytest.fixture
def world(client: Any, factory: Any, api_as: Any) -> dict[str, Any]:
    """An admin, a supervisor and an agent in Support, an agent in Billing, a customer;
    a filterable select field `fault` and a filterable number `floor` on the `repair` type;
    four tickets."""
    support, billing = factory.team("Support"), factory.team("Billing")
    people = {
        "admin": factory.user("admin"),
        "supervisor": factory.user("supervisor", teams=[support]),
        "agent": factory.user("agent", teams=[support]),
        "other": factory.user("agent", teams=[billing]),
        "customer": factory.customer_user(),
    }
    admin = api_as(people["admin"])
    choices = [{"key": k, "label": _l(k, k)} for k in ("leak", "noise")]
    for data in (
        {
            "key": "fault",
            "type": "select",
            "label": _l("故障", "Fault"),
            "filterable": True,
            "options": {"choices": choices},
        },
        {"key": "floor", "type": "integer", "label": _l("楼层", "Floor"), "filterable": True},
    ):
        assert client.post("/api/v1/fields", json=data, headers=admin).status_code == 201
    client.post(
        "/api/v1/ticket-types", json={"key": "repair", "name": _l("报修", "Repair")}, headers=admin
    )
    definition = {
        "fields": [{"key": "fault"}, {"key": "floor"}],
        "layouts": {"agent_create": [{"fields": ["fault", "floor"]}]},
    }
    client.put(
        "/api/v1/ticket-types/repair/form/draft", json={"definition": definition}, headers=admin
    )
    assert client.post("/api/v1/ticket-types/repair/form/publish", headers=admin).is_success
    for subject, fault, floor in (
        ("Leak 3", "leak", 3),
        ("Leak 12", "leak", 12),
        ("Noise 7", "noise", 7),
        ("Leak 1", "leak", 1),
    ):
        body = {
            "subject": subject,
            "type": "repair",
            "team_id": support.id,
            "custom": {"fault": fault, "floor": floor},
        }
        assert client.post("/api/v1/tickets", json=body, headers=admin).status_code == 201
    return {
        "people": people,
        "support": support,
        "billing": billing,
        "h": {k: api_as(u) for k, u in people.items()},
    }


def _view(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post(
        "/api/v1/views", json={"name": "Leaks", "condition": LEAK, **body}, headers=headers
    )


def test_a_view_filters_and_sorts_the_ticket_list(client, world):
    h = world["h"]
    made = _view(client, h["agent"], sort="-floor")
    assert made.status_code == 201, made.text
    view = made.json()
    assert view["scope"] == "personal"
    assert view["owner_id"] == world["people"]["agent"].id
    listed = client.get("/api/v1/tickets", params={"view": view["id"]}, headers=h["agent"])
    assert [t["subject"] for t in listed.json()["items"]] == ["Leak 12", "Leak 3", "Leak 1"]
    asked = client.get(
        "/api/v1/tickets", params={"view": view["id"], "sort": "floor"}, headers=h["agent"]
    )
    assert [t["subject"] for t in asked.json()["items"]] == ["Leak 1", "Leak 3", "Leak 12"]
    renamed = client.patch(
        f"/api/v1/views/{view['id']}", json={"name": "Water"}, headers=h["agent"]
    )
    assert renamed.json()["name"] == "Water"
    assert [v["name"] for v in client.get("/api/v1/views", headers=h["agent"]).json()] == ["Water"]
    assert client.delete(f"/api/v1/views/{view['id']}", headers=h["agent"]).status_code == 204
    assert client.get(f"/api/v1/views/{view['id']}", headers=h["agent"]).status_code == 404


def test_a_wrong_condition_or_sort_is_refused_naming_the_leaf(client, world):
    h = world["h"]
    bad = _view(
        client,
        h["agent"],
        condition={
            "all": [
                {"field": "fault", "op": "eq", "value": "leak"},
                {"field": "fault", "op": "eq", "value": "flood"},
            ]
        },
    )
    assert bad.status_code == 422
    error = bad.json()["error"]["fields"][0]
    assert error["field"] == "condition.all[1]"
    assert "flood" in error["message"]
    zh = client.post(
        "/api/v1/views",
        json={"name": "x", "sort": "colour"},
        headers={**h["agent"], "Accept-Language": "zh-CN"},
    )
    assert zh.status_code == 422
    assert zh.json()["error"]["fields"][0]["field"] == "sort"


@pytest.mark.parametrize(
    ("who", "scope", "status"),
    [
        ("agent", "personal", 201),
        ("agent", "team", 403),
        ("agent", "all", 403),
        ("supervisor", "team", 201),
        ("supervisor", "all", 201),
        ("admin", "all", 201),
        ("customer", "personal", 403),
    ],
)
def test_who_may_share_a_view(client, world, who, scope, status):
    team = world["support"].id if scope == "team" else None
    response = _view(client, world["h"][who], scope=scope, team_id=team)
    assert response.status_code == status, response.text


def test_who_sees_and_changes_shared_and_personal_views(client, world):
    h = world["h"]
    team_view = _view(
        client, h["supervisor"], name="Support leaks", scope="team", team_id=world["support"].id
    ).json()
    everyone = _view(client, h["admin"], name="All leaks", scope="all").json()
    mine = _view(client, h["agent"], name="My leaks").json()

    def names(who: str) -> list[str]:
        return [v["name"] for v in client.get("/api/v1/views", headers=h[who]).json()]

    assert names("agent") == ["All leaks", "My leaks", "Support leaks"]
    assert names("other") == ["All leaks"], "another team's and someone's personal view stay hidden"
    assert client.get(f"/api/v1/views/{mine['id']}", headers=h["other"]).status_code == 404
    other_list = client.get("/api/v1/tickets", params={"view": team_view["id"]}, headers=h["other"])
    assert other_list.status_code == 404
    assert client.get("/api/v1/views", headers=h["customer"]).status_code == 403
    # seeing is not changing: only the owner or an admin
    patch = {"name": "Mine now"}
    assert (
        client.patch(f"/api/v1/views/{team_view['id']}", json=patch, headers=h["agent"]).status_code
        == 403
    )
    assert (
        client.delete(f"/api/v1/views/{everyone['id']}", headers=h["supervisor"]).status_code == 403
    )
    assert client.patch(f"/api/v1/views/{mine['id']}", json=patch, headers=h["admin"]).is_success
    assert client.delete(f"/api/v1/views/{team_view['id']}", headers=h["admin"]).status_code == 204
    assert (
        client.patch(
            f"/api/v1/views/{mine['id']}", json={"scope": "all"}, headers=h["agent"]
        ).status_code
        == 403
    )


def test_a_stale_view_says_so_instead_of_failing(app, client, world):
    view = _view(client, world["h"]["agent"]).json()
    with transaction(app.state.writer) as session:  # as if the field had gone since
        session.execute(
            update(SavedView)
            .where(SavedView.id == view["id"])
            .values(condition={"all": [{"field": "gone", "op": "eq", "value": "x"}]})
        )
    response = client.get(
        "/api/v1/tickets", params={"view": view["id"]}, headers=world["h"]["agent"]
    )
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["message"] == "The saved view Leaks no longer works; edit or delete it."
    assert "gone" in body["fields"][0]["message"]


def test_field_usages_list_saved_views_and_block_delete_and_retype(client, world):
    h, admin = world["h"], world["h"]["admin"]
    site = client.post(
        "/api/v1/fields",
        headers=admin,
        json={"key": "site", "type": "text", "label": _l("地点", "Site")},
    ).json()
    by_site = _view(
        client, h["agent"], name="Plant A", condition={"field": "site", "op": "eq", "value": "A"}
    ).json()
    _view(client, h["admin"], name="High floors first", condition={"all": []}, sort="-floor")
    usages = client.get(f"/api/v1/fields/{site['id']}/usages", headers=admin).json()
    assert [(u["kind"], u["key"], u["active"]) for u in usages] == [("view", "Plant A", True)]
    floor = next(
        f for f in client.get("/api/v1/fields", headers=admin).json() if f["key"] == "floor"
    )
    floor_usages = client.get(f"/api/v1/fields/{floor['id']}/usages", headers=admin).json()
    assert ("view", "High floors first") in [(u["kind"], u["key"]) for u in floor_usages]

    deleted = client.delete(f"/api/v1/fields/{site['id']}", headers=admin)
    assert deleted.status_code == 409
    assert "view Plant A" in deleted.json()["error"]["message"]
    retype = {"type": "integer", "options": {}, "version": site["version"], "dry_run": False}
    refused = client.post(f"/api/v1/fields/{site['id']}/retype", json=retype, headers=admin)
    assert refused.status_code == 409
    assert "view Plant A" in refused.json()["error"]["message"]
    assert client.delete(f"/api/v1/views/{by_site['id']}", headers=h["agent"]).status_code == 204
    assert client.delete(f"/api/v1/fields/{site['id']}", headers=admin).status_code == 204
