"""Ticket intake through the API: what one create answers, writes and costs in statements."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, pool, select, text, update

from fuwu.audit.models import AuditEntry
from fuwu.auth.models import ApiToken, User
from fuwu.customers.models import Contact
from fuwu.db import transaction
from fuwu.jobs.models import DomainEvent
from fuwu.kit.time import utcnow
from fuwu.tickets.models import Ticket, TicketEvent, TicketTag


def count(app: Any, model: type[Any]) -> int:
    with transaction(app.state.reader) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_answer_to_a_create_is_what_a_read_returns(client, factory, api_as):
    agent = factory.user("agent", display_name="Zhang Wei")
    team = factory.team("Air conditioning", members=[agent])
    headers = api_as(factory.user("admin"))
    payload = {
        "subject": "空调不制冷，显示E4故障码",
        "description": "客户来电：开机十分钟后停机。",
        "priority": "high",
        "channel": "phone",
        "customer": {"name": "Li Lei", "email": "li.lei@example.com", "organisation": "Acme"},
        "team_id": team.id,
        "assignee_id": agent.id,
        "tags": ["空调", "bench", "空调"],
    }
    created = client.post("/api/v1/tickets", json=payload, headers=headers)
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/json"
    body = created.json()
    read = client.get(f"/api/v1/tickets/{body['id']}", headers=headers)
    assert created.content == read.content  # the same representation, byte for byte
    assert body["customer"]["name"] == "Li Lei"
    assert body["organisation"]["name"] == "Acme"
    assert body["assignee"] == {"id": agent.id, "display_name": "Zhang Wei"}
    assert body["team"] == {"id": team.id, "name": "Air conditioning"}
    assert (body["status"], body["tags"], body["version"]) == ("open", ["空调", "bench"], 1)


def test_a_create_writes_its_tags_history_event_and_audit_row(app, client, factory, api_as):
    headers = api_as(factory.user("admin"))
    body = client.post(
        "/api/v1/tickets", json={"subject": "Leak", "tags": ["a", "b"]}, headers=headers
    ).json()
    with transaction(app.state.reader) as session:
        tags = session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == body["id"]))
        [history] = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == body["id"]))
        [outbox] = session.scalars(select(DomainEvent).where(DomainEvent.entity_id == body["id"]))
        [entry] = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity == "ticket", AuditEntry.entity_id == str(body["id"])
            )
        )
        stored = session.get(Ticket, body["id"])
        assert stored is not None
        assert sorted(tags) == ["a", "b"]
    assert (history.kind, history.changes) == ("created", {"channel": "api", "status": "new"})
    assert (outbox.name, outbox.entity, outbox.payload) == (
        "ticket.created",
        "ticket",
        {"number": body["number"]},
    )
    assert (entry.action, entry.before) == ("create", None)
    assert entry.after == {
        "number": body["number"], "subject": "Leak", "description": "", "status": "new",
        "priority": "normal", "type_key": "general", "customer_id": None, "assignee_id": None,
        "team_id": None, "tags": ["a", "b"], "custom": {},
    }  # fmt: skip
    assert stored.number == body["number"]
    assert history.actor_id == outbox.actor_id == entry.actor_id == stored.created_by_id


def test_a_portal_customer_opens_a_ticket_for_themselves(client, factory, api_as):
    contact = factory.contact("Wang Fang")
    response = client.post(
        "/api/v1/tickets",
        json={"subject": "Washer leaks"},
        headers=api_as(factory.customer_user(contact)),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["customer"] == {"id": contact.id, "name": "Wang Fang"}
    assert (body["team"], body["channel"], body["status"]) == (None, "portal", "new")


def fields_of(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(f["field"], f["code"]) for f in response.json()["error"]["fields"]]


def test_people_a_create_names_must_exist_and_fit(app, client, factory, api_as):
    member, outsider, inactive = factory.user("agent"), factory.user("agent"), factory.user("agent")
    with transaction(app.state.writer) as session:
        session.execute(update(User).where(User.id == inactive.id).values(is_active=False))
    customer_user = factory.customer_user()
    team = factory.team(members=[member])
    headers = api_as(factory.user("admin"))

    def post(**payload: Any) -> Any:
        return client.post("/api/v1/tickets", json={"subject": "Hi", **payload}, headers=headers)

    missing = 10_000_000
    # Every problem in one answer (issue 16), not one round per field.
    assert fields_of(post(customer_id=missing, team_id=missing)) == [
        ("customer_id", "not_found"),
        ("team_id", "not_found"),
    ]
    assert fields_of(post(team_id=missing, assignee_id=missing)) == [
        ("team_id", "not_found"),
        ("assignee_id", "not_found"),
    ]
    assert fields_of(post(team_id=missing, assignee_id=outsider.id)) == [("team_id", "not_found")]
    assert fields_of(post(team_id=team.id, assignee_id=outsider.id)) == [
        ("assignee_id", "not_in_team")
    ]
    for unfit in (inactive, customer_user):
        assert fields_of(post(assignee_id=unfit.id)) == [("assignee_id", "not_found")]
    # A refused create rolls back what it did first, such as creating the customer.
    assert fields_of(post(customer={"email": "new@example.com"}, team_id=missing))
    assert (count(app, Contact), count(app, Ticket)) == (1, 0)  # the customer user's own
    assert post(team_id=team.id, assignee_id=member.id).status_code == 201


def test_a_create_is_one_insert_statement_on_postgresql(app, client, factory, api_as, db_kind):
    """Pinned: the token, the people, the version of the published workflows (the process
    engine's one read when its compiled workflows are current) and one INSERT for the ticket
    and everything it writes (docs/benchmarks.md); SQLite, in process, takes one INSERT per
    table."""
    team = factory.team()
    customer = factory.contact()
    headers = api_as(factory.user("admin"))
    payload = {"subject": "Hi", "customer_id": customer.id, "team_id": team.id, "tags": ["a"]}
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0])

    assert client.post("/api/v1/tickets", json=payload, headers=headers).status_code == 201
    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        assert client.post("/api/v1/tickets", json=payload, headers=headers).status_code == 201
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)
    if db_kind == "postgresql":
        assert statements == ["SELECT", "SELECT", "SELECT", "WITH"], statements
    else:  # BEGIN IMMEDIATE, token, people, workflows, counter, ticket, tag, history, event, audit
        assert len(statements) == 10, statements


def test_the_token_records_its_use_at_most_every_few_minutes(app, client, factory, api_as):
    headers = api_as(factory.user("admin"))

    def last_used() -> Any:
        with transaction(app.state.reader) as session:
            return session.scalar(select(ApiToken.last_used_at))

    assert last_used() is None
    client.post("/api/v1/tickets", json={"subject": "One"}, headers=headers)
    first = last_used()
    assert first is not None
    client.post("/api/v1/tickets", json={"subject": "Two"}, headers=headers)
    client.get("/api/v1/tickets", headers=headers)
    assert last_used() == first
    with transaction(app.state.writer) as session:
        session.execute(update(ApiToken).values(last_used_at=utcnow() - timedelta(minutes=6)))
    client.get("/api/v1/tickets", headers=headers)
    assert last_used() > first


@pytest.mark.postgresql
def test_a_pooled_connection_the_server_dropped_is_replaced(app, client, db_kind, monkeypatch):
    if db_kind != "postgresql":
        pytest.skip("SQLite has no server to lose")
    monkeypatch.setattr("fuwu.db.PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout is "idle"
    assert client.get("/healthz").status_code == 200  # a connection in the pool now
    outside = create_engine(app.state.engine.url, poolclass=pool.NullPool)
    with outside.connect() as conn:  # the server drops every other connection to this database
        dropped = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    outside.dispose()
    assert dropped >= 1
    assert client.get("/healthz").status_code == 200  # not 503: the dead one was replaced
