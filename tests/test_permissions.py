"""Who may do what: a table of endpoint × role × ticket owner → HTTP status.

Customers never learn that someone else's ticket exists (404, not 403) and never see internal
notes; agents see their teams' tickets and unrouted ones; lists apply the same rule as details.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

ROLES = (
    "anonymous",
    "customer_a",
    "customer_b",
    "agent_x",
    "agent_y",
    "engineer",
    "supervisor",
    "admin",
)
_names = itertools.count()
PAYLOADS: dict[str, Any] = {
    "-": None,
    "patch": {"priority": "high"},
    "reply": {"body": "Any news?"},
    "note": {"body": "Internal", "kind": "note"},
    "upload": "upload",
    "user": lambda: {
        "username": f"new{next(_names)}",
        "display_name": "New",
        "password": "s3cret-pass-123",
    },
    "team": lambda: {"name": f"Team {next(_names)}"},
    "customer": lambda: {"name": f"Walk-in {next(_names)}"},
}

# The team ticket is customer A's and routed to team X; agent_y is in team Y, the engineer in no
# team. For the unrouted ticket (customer A's, no team) agent_y and the engineer act like agent_x.
TICKET_TABLE = """
name         method path                           payload anon cA  cB  agX agY eng sup adm
get          GET    /tickets/{ticket}              -       401  200 404 200 404 404 200 200
patch        PATCH  /tickets/{ticket}              patch   401  403 403 200 404 404 200 200
history      GET    /tickets/{ticket}/history      -       401  200 404 200 404 404 200 200
messages     GET    /tickets/{ticket}/messages     -       401  200 404 200 404 404 200 200
reply        POST   /tickets/{ticket}/messages     reply   401  201 404 201 404 404 201 201
note         POST   /tickets/{ticket}/messages     note    401  403 404 201 404 404 201 201
attachments  GET    /tickets/{ticket}/attachments  -       401  200 404 200 404 404 200 200
upload       POST   /tickets/{ticket}/attachments  upload  401  201 404 201 404 404 201 201
public-file  GET    /attachments/{public_file}     -       401  200 404 200 404 404 200 200
note-file    GET    /attachments/{note_file}       -       401  404 404 200 404 404 200 200
"""

PEOPLE_TABLE = """
name         method path                           payload anon cA  cB  agX agY eng sup adm
me           GET    /me                            -       401  200 200 200 200 200 200 200
tickets      GET    /tickets                       -       401  200 200 200 200 200 200 200
users        GET    /users                         -       401  403 403 200 200 200 200 200
user         GET    /users/{agent_x}               -       401  403 403 200 200 200 200 200
new-user     POST   /users                         user    401  403 403 403 403 403 403 201
new-team     POST   /teams                         team    401  403 403 403 403 403 403 201
customers    GET    /customers                     -       401  403 403 200 200 200 200 200
customer-a   GET    /customers/{contact_a}         -       401  200 404 200 200 200 200 200
new-customer POST   /customers                     customer 401 403 403 201 201 201 201 201
orgs         GET    /organisations                 -       401  403 403 200 200 200 200 200
org          GET    /organisations/{org}           -       401  403 403 200 200 200 200 200
audit        GET    /audit                         -       401  403 403 403 403 403 200 200
"""


def parse(table: str) -> list[tuple[str, str, str, Any, dict[str, int]]]:
    """Rows of (name, method, path, payload, {role: status})."""
    rows = []
    for line in table.strip().splitlines()[1:]:
        name, method, path, payload, *codes = line.split()
        rows.append(
            (name, method, path, PAYLOADS[payload], dict(zip(ROLES, map(int, codes), strict=True)))
        )
    return rows


TICKET_MATRIX = parse(TICKET_TABLE)
PEOPLE_MATRIX = parse(PEOPLE_TABLE)


@pytest.fixture
def world(client, factory, api_as):
    """Two teams, two customers, staff of every role and two tickets of customer A."""
    agent_x, agent_y = factory.user("agent"), factory.user("agent")
    team_x, team_y = factory.team("X", members=[agent_x]), factory.team("Y", members=[agent_y])
    contact_a = factory.contact("A", email="a@example.com")
    contact_b = factory.contact("B", email="b@example.com")
    users = {
        "customer_a": factory.customer_user(contact_a),
        "customer_b": factory.customer_user(contact_b),
        "agent_x": agent_x,
        "agent_y": agent_y,
        "engineer": factory.user("engineer"),
        "supervisor": factory.user("supervisor"),
        "admin": factory.user("admin"),
    }
    headers = {role: api_as(user) for role, user in users.items()} | {"anonymous": {}}
    tickets = {
        "team": factory.ticket("Team ticket", customer=contact_a, team=team_x),
        "unrouted": factory.ticket("Unrouted ticket", customer=contact_a),
        "team_y": factory.ticket("Team Y ticket of B", customer=contact_b, team=team_y),
    }
    files = {}
    admin = headers["admin"]
    for key, ticket in tickets.items():
        url = f"/api/v1/tickets/{ticket.id}"
        client.post(f"{url}/messages", json={"body": "Public reply"}, headers=admin)
        note = client.post(
            f"{url}/messages", json={"body": "SECRET internal note", "kind": "note"}, headers=admin
        ).json()
        public = client.post(
            f"{url}/attachments",
            files={"file": ("manual.pdf", b"%PDF public", "application/pdf")},
            headers=admin,
        ).json()
        secret = client.post(
            f"{url}/attachments",
            files={"file": ("secret.txt", b"internal", "text/plain")},
            data={"message_id": str(note["id"])},
            headers=admin,
        ).json()
        files[key] = {"public_file": public["id"], "note_file": secret["id"]}
    org = client.post("/api/v1/organisations", json={"name": "ACME"}, headers=admin).json()
    return {
        "users": users,
        "headers": headers,
        "tickets": tickets,
        "files": files,
        "ids": {"contact_a": contact_a.id, "org": org["id"], "agent_x": agent_x.id},
    }


def call(client, method: str, path: str, payload: Any, headers: dict[str, str]):
    if payload == "upload":
        files = {"file": ("photo.png", b"\x89PNG fake", "image/png")}
        return client.post(path, files=files, headers=headers)
    body = payload() if callable(payload) else payload
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("owner", ["team", "unrouted"])
def test_ticket_endpoint_matrix(client, world, subtests, owner):
    ticket = world["tickets"][owner]
    for (name, method, template, payload, expected), role in itertools.product(
        TICKET_MATRIX, ROLES
    ):
        if owner == "unrouted" and role in ("agent_y", "engineer"):
            status = expected["agent_x"]
        else:
            status = expected[role]
        path = "/api/v1" + template.format(ticket=ticket.id, **world["files"][owner])
        with subtests.test(msg=f"{name} {owner} ticket as {role}"):
            response = call(client, method, path, payload, world["headers"][role])
            assert response.status_code == status, response.text


def test_people_endpoint_matrix(client, world, subtests):
    for (name, method, template, payload, expected), role in itertools.product(
        PEOPLE_MATRIX, ROLES
    ):
        path = "/api/v1" + template.format(**world["ids"])
        with subtests.test(msg=f"{name} as {role}"):
            response = call(client, method, path, payload, world["headers"][role])
            assert response.status_code == expected[role], response.text


def test_lists_show_exactly_the_tickets_the_detail_view_allows(client, world, subtests):
    tickets = world["tickets"]
    expected = {
        "customer_a": {"team", "unrouted"},
        "customer_b": {"team_y"},
        "agent_x": {"team", "unrouted"},
        "agent_y": {"unrouted", "team_y"},
        "engineer": {"unrouted"},
        "supervisor": {"team", "unrouted", "team_y"},
        "admin": {"team", "unrouted", "team_y"},
    }
    key_of = {t.id: k for k, t in tickets.items()}
    for role, visible in expected.items():
        headers = world["headers"][role]
        with subtests.test(msg=role):
            listed = client.get("/api/v1/tickets", headers=headers).json()["items"]
            assert {key_of[t["id"]] for t in listed} == visible
            readable = {
                key for key, t in tickets.items()
                if client.get(f"/api/v1/tickets/{t.id}", headers=headers).status_code == 200
            }  # fmt: skip
            assert readable == visible
            # A filter can narrow the list, never widen it.
            team_x = tickets["team"].team_id
            by_team = client.get("/api/v1/tickets", params={"team": team_x}, headers=headers).json()
            assert {key_of[t["id"]] for t in by_team["items"]} == visible & {"team"}
            number = client.get(
                "/api/v1/tickets", params={"q": tickets["team"].number}, headers=headers
            )
            assert {key_of[t["id"]] for t in number.json()["items"]} == visible & {"team"}


def test_customer_never_sees_internal_notes_or_their_files(client, world):
    headers = world["headers"]["customer_a"]
    ticket = world["tickets"]["team"]
    url = f"/api/v1/tickets/{ticket.id}"
    messages = client.get(f"{url}/messages", headers=headers).json()
    assert [m["body"] for m in messages] == ["Public reply"]
    files = client.get(f"{url}/attachments", headers=headers).json()
    assert [f["filename"] for f in files] == ["manual.pdf"]
    history = client.get(f"{url}/history", headers=headers)
    assert "SECRET" not in history.text
    staff_files = client.get(f"{url}/attachments", headers=world["headers"]["agent_x"]).json()
    assert sorted(f["filename"] for f in staff_files) == ["manual.pdf", "secret.txt"]


def test_customer_cannot_attach_a_file_to_an_internal_note(client, world):
    ticket = world["tickets"]["team"]
    url = f"/api/v1/tickets/{ticket.id}"
    messages = client.get(f"{url}/messages", headers=world["headers"]["admin"]).json()
    note_id = next(m["id"] for m in messages if m["kind"] == "note")
    response = client.post(
        f"{url}/attachments", files={"file": ("x.txt", b"x", "text/plain")},
        data={"message_id": str(note_id)}, headers=world["headers"]["customer_a"],
    )  # fmt: skip
    assert response.status_code == 422


@pytest.mark.parametrize(
    "extra",
    [
        {"customer_id": "team_y_customer"},
        {"team_id": "team"},
        {"assignee_id": "agent_x"},
        {"tags": ["vip"]},
        {"channel": "phone"},
        {"customer": {"name": "Someone else", "email": "else@example.com"}},
    ],
    ids=["customer_id", "team_id", "assignee_id", "tags", "channel", "customer"],
)
def test_a_customer_cannot_set_what_the_portal_does_not_offer(client, world, extra):
    ids = {
        "team_y_customer": world["tickets"]["team_y"].customer_id,
        "team": world["tickets"]["team"].team_id,
        "agent_x": world["users"]["agent_x"].id,
    }
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in extra.items()}
    response = client.post(
        "/api/v1/tickets",
        json={"subject": "Portal ticket", **body},
        headers=world["headers"]["customer_a"],
    )
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["error"]["fields"]] == list(extra)


def test_customer_ticket_is_always_their_own_and_unrouted(client, world):
    response = client.post(
        "/api/v1/tickets",
        json={"subject": "Portal ticket", "priority": "high"},
        headers=world["headers"]["customer_a"],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["customer"]["id"], body["team"], body["assignee"], body["channel"]) == (
        world["ids"]["contact_a"], None, None, "portal",
    )  # fmt: skip
    assert body["priority"] == "high"


def test_read_only_token_cannot_write(client, factory, api_as):
    agent = factory.user("agent")
    ticket = factory.ticket("Scoped")
    read_only = api_as(agent, scopes=["tickets:read"])
    url = f"/api/v1/tickets/{ticket.id}"
    assert client.get(url, headers=read_only).status_code == 200
    for method, path, body in (
        ("POST", "/api/v1/tickets", {"subject": "Nope"}),
        ("PATCH", url, {"priority": "urgent"}),
        ("POST", f"{url}/messages", {"body": "Nope"}),
    ):
        response = client.request(method, path, json=body, headers=read_only)
        assert response.status_code == 403, (method, path, response.text)
        assert "tickets:write" in response.json()["error"]["message"]
    customers_only = api_as(agent, scopes=["customers:read"])
    assert client.get(url, headers=customers_only).status_code == 403
    assert client.get("/api/v1/customers", headers=customers_only).status_code == 200
    after = client.get(url, headers=read_only).json()
    assert (after["priority"], after["version"]) == ("normal", 1)
    assert len(client.get("/api/v1/tickets", headers=read_only).json()["items"]) == 1


def test_revoked_token_and_inactive_user_get_401(client, factory, api_as):
    agent = factory.user("agent")
    headers = api_as(agent)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    [token] = client.get(f"/api/v1/users/{agent.id}/tokens", headers=headers).json()
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=headers).status_code == 200
    revoked = client.get("/api/v1/me", headers=headers)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "not_authenticated"

    other = factory.user("agent")
    other_headers = api_as(other)
    admin = api_as(factory.user("admin"))
    assert (
        client.patch(
            f"/api/v1/users/{other.id}", json={"is_active": False}, headers=admin
        ).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=other_headers).status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer fuwu_000000000000_wrong-secret",
    ],
)
def test_bad_credentials_are_401(client, factory, api_as, authorization):
    valid = api_as(factory.user("admin"))["Authorization"]
    prefix = valid.split("_")[1]
    authorization = authorization.replace("000000000000", prefix)  # a real prefix, wrong secret
    response = client.get("/api/v1/tickets", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
