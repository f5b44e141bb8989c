"""The audit log: who changed users, teams, contacts and tickets, before and after."""

from __future__ import annotations

import json
from typing import Any


def entries(client, headers, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_user_changes_are_audited_without_secrets(client, factory, api_as):
    admin = factory.user("admin", display_name="Ada Admin")
    headers = api_as(admin)
    team = factory.team("Support")
    created = client.post(
        "/api/v1/users",
        json={
            "username": "li.lei", "display_name": "Li Lei", "role": "agent",
            "password": "first-pass-123", "team_ids": [team.id],
        },
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    changed = client.patch(
        f"/api/v1/users/{user_id}",
        json={"display_name": "李雷", "password": "second-pass-456"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text

    update, create = entries(client, headers, entity="user", entity_id=str(user_id))
    assert (create["action"], create["actor_id"], create["actor_name"]) == (
        "create",
        admin.id,
        "Ada Admin",
    )
    assert create["before"] is None
    assert create["after"]["username"] == "li.lei"
    assert create["after"]["team_ids"] == [team.id]
    assert create["ip"] == "testclient"
    assert update["action"] == "update"
    assert update["before"] == {"display_name": "Li Lei", "password": "***"}
    assert update["after"] == {"display_name": "李雷", "password": "*** (changed)"}
    everything = json.dumps(entries(client, headers, limit=500), ensure_ascii=False)
    assert "first-pass-123" not in everything
    assert "second-pass-456" not in everything
    assert "$argon2" not in everything


def test_team_changes_are_audited(client, factory, api_as):
    admin = factory.user("admin")
    member = factory.user("agent")
    headers = api_as(admin)
    team = client.post("/api/v1/teams", json={"name": "Field"}, headers=headers).json()
    client.patch(f"/api/v1/teams/{team['id']}", json={"member_ids": [member.id]}, headers=headers)
    update, create = entries(client, headers, entity="team", entity_id=str(team["id"]))
    assert (create["action"], create["actor_id"], create["after"]["name"]) == (
        "create",
        admin.id,
        "Field",
    )
    assert (update["before"], update["after"]) == ({"member_ids": []}, {"member_ids": [member.id]})


def test_contact_changes_are_audited(client, factory, api_as):
    agent = factory.user("agent")
    headers = api_as(agent)
    contact = client.post(
        "/api/v1/customers", json={"name": "王芳", "email": "wang@example.com"}, headers=headers
    ).json()
    client.patch(f"/api/v1/customers/{contact['id']}", json={"city": "杭州"}, headers=headers)
    admin = api_as(factory.user("admin"))
    update, create = entries(client, admin, entity="contact", entity_id=str(contact["id"]))
    assert (create["action"], create["actor_id"]) == ("create", agent.id)
    assert create["after"]["email"] == "wang@example.com"
    assert (update["before"], update["after"]) == ({"city": ""}, {"city": "杭州"})


def test_contact_created_with_a_ticket_is_audited(client, factory, api_as):
    agent = factory.user("agent")
    ticket = client.post(
        "/api/v1/tickets",
        json={"subject": "New caller", "customer": {"phone": "13800138000"}},
        headers=api_as(agent),
    ).json()
    [created] = entries(
        client,
        api_as(factory.user("admin")),
        entity="contact",
        entity_id=str(ticket["customer"]["id"]),
    )
    assert (created["actor_id"], created["after"]["phone"]) == (agent.id, "+8613800138000")


def test_ticket_changes_are_audited(client, factory, api_as):
    agent = factory.user("agent", display_name="Wang Agent")
    headers = api_as(agent)
    ticket = client.post(
        "/api/v1/tickets", json={"subject": "Broken lift", "priority": "high"}, headers=headers
    ).json()
    client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"priority": "urgent", "tags": ["lift"]},
        headers=headers,
    )
    admin = api_as(factory.user("admin"))
    update, create = entries(client, admin, entity="ticket", entity_id=str(ticket["id"]))
    assert (create["action"], create["actor_id"], create["actor_name"]) == (
        "create",
        agent.id,
        "Wang Agent",
    )
    assert create["after"]["number"] == ticket["number"]
    assert create["after"]["subject"] == "Broken lift"
    assert update["action"] == "update"
    assert update["before"] == {"priority": "high", "tags": []}
    assert update["after"] == {"priority": "urgent", "tags": ["lift"]}


def test_audit_log_is_for_admins_and_supervisors_and_pages_by_id(client, factory, api_as):
    for n in range(5):
        factory.team(f"Team {n}")
    admin = api_as(factory.user("admin"))
    supervisor = api_as(factory.user("supervisor"))
    agent = api_as(factory.user("agent"))
    assert client.get("/api/v1/audit", headers=agent).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401
    newest = entries(client, supervisor, entity="team", limit=2)
    assert [e["after"]["name"] for e in newest] == ["Team 4", "Team 3"]
    older = entries(client, admin, entity="team", limit=10, before_id=newest[-1]["id"])
    assert [e["after"]["name"] for e in older] == ["Team 2", "Team 1", "Team 0"]
    actor = entries(client, admin, actor_id=2**31 - 1)
    assert actor == []
