"""db.insert_with_children: one statement on PostgreSQL, one per table on SQLite, same rows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fuwu.audit.models import AuditEntry
from fuwu.db import Children, New, Numbered, insert_with_children, table, transaction
from fuwu.kit.time import utcnow
from fuwu.tickets.models import Ticket, TicketCounter, TicketTag


def audit_row(**after: Any) -> dict[str, Any]:
    return {
        "entity_id": New(), "actor_id": None, "actor_name": "test", "action": "create",
        "entity": "ticket", "before": None, "after": after, "ip": None, "created_at": utcnow(),
    }  # fmt: skip


def insert(session: Any, subject: str, tags: list[str]) -> dict[str, Any]:
    return insert_with_children(
        session,
        table(Ticket),
        {"number": Numbered(table(TicketCounter), "T-#", ("T-", 4)), "subject": subject},
        [
            Children(table(TicketTag), [{"ticket_id": New(), "tag": t} for t in tags]),
            Children(table(AuditEntry), [audit_row(number=New("number"), subject=subject)]),
        ],
    )


def test_a_row_its_number_and_the_rows_that_refer_to_it(app, db_kind):
    with transaction(app.state.writer) as session:
        first = insert(session, "First", ["a", "b"])
        second = insert(session, "Second", [])  # no tags: the tag rows are left out
    assert (first["number"], second["number"]) == ("T-0001", "T-0002")
    with transaction(app.state.reader) as session:
        stored = {t.id: t for t in session.scalars(select(Ticket))}
        tags = session.execute(select(TicketTag.ticket_id, TicketTag.tag)).all()
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        counter = session.get(TicketCounter, "T-#")
        assert counter is not None  # on PostgreSQL the row names the key of a sequence
        assert counter.value == (2 if db_kind == "sqlite" else 0)
    assert {i: (t.number, t.subject, t.status) for i, t in stored.items()} == {
        first["id"]: ("T-0001", "First", "new"),  # "new": the column's default, as usual
        second["id"]: ("T-0002", "Second", "new"),
    }
    assert sorted(tags) == [(first["id"], "a"), (first["id"], "b")]
    assert [(e.entity_id, e.after) for e in entries] == [
        (str(first["id"]), {"number": "T-0001", "subject": "First"}),
        (str(second["id"]), {"number": "T-0002", "subject": "Second"}),
    ]


class Abort(Exception):
    pass


def insert_then_fail(app: Any) -> None:
    with transaction(app.state.writer) as session:
        insert(session, "Never stored", ["a"])
        raise Abort()


def test_a_rollback_takes_the_number_back_on_sqlite_and_leaves_a_gap_on_postgresql(app, db_kind):
    with transaction(app.state.writer) as session:
        assert insert(session, "Stored", [])["number"] == "T-0001"
    with pytest.raises(Abort):
        insert_then_fail(app)
    with transaction(app.state.writer) as session:
        number = insert(session, "Stored too", [])["number"]
    # SQLite's row counter is gapless; PostgreSQL's sequence does not wait for commit.
    assert number == ("T-0002" if db_kind == "sqlite" else "T-0003")


def test_a_rollback_of_the_first_use_of_a_key_starts_it_again(app):
    with pytest.raises(Abort):
        insert_then_fail(app)  # on PostgreSQL, the sequence made here goes with the rollback
    with transaction(app.state.writer) as session:
        assert insert(session, "Stored", [])["number"] == "T-0001"


def test_left_out_columns_get_their_defaults_as_with_a_plain_insert(app):
    before = utcnow()
    row = {k: v for k, v in audit_row().items() if k not in ("created_at", "actor_name")}
    with transaction(app.state.writer) as session:
        insert_with_children(
            session, table(Ticket), {"number": "X-1", "subject": "Defaults"},
            [Children(table(AuditEntry), [row])],
        )  # fmt: skip
    with transaction(app.state.reader) as session:
        ticket = session.scalars(select(Ticket)).one()
        entry = session.scalars(select(AuditEntry)).one()
    assert (ticket.description, ticket.tags, ticket.custom, ticket.version) == ("", [], {}, 1)
    assert ticket.created_at >= before
    assert entry.actor_name == "system"  # the column's default
    assert entry.created_at >= before
