"""Many people replying to one ticket at once: every reply is stored, none gets an error."""

from __future__ import annotations

import threading

import pytest

from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.errors import Conflict
from fuwu.tickets import messages
from fuwu.tickets import service as tickets_service
from fuwu.tickets.schemas import TicketUpdate


def test_simultaneous_replies_all_succeed(app, factory):
    agent = factory.user("admin")
    ticket = factory.ticket("多人同时回复")
    actor = factory.principal(agent)
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def reply(n: int) -> None:
        start.wait()
        try:
            for i in range(5):
                with transaction(app.state.writer) as session:
                    messages.add_message(
                        session,
                        actor=actor,
                        ticket_id=ticket.id,
                        body=f"回复 {n}-{i}",
                        kind="reply",
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reply, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with transaction(app.state.reader) as session:
        stored = messages.list_messages(session, actor=actor, ticket_id=ticket.id)
        assert len(stored) == 30
        again = tickets_service.get_ticket(session, actor=actor, ticket_id=ticket.id)
        assert again.first_response_at is not None
        assert again.version == ticket.version, "replies do not bump the edit version"


def test_a_customer_reply_reopens_and_makes_a_stale_edit_conflict(app, factory):
    contact = factory.contact("王女士")
    customer = factory.customer_user(contact)
    ticket = factory.ticket("热水器不出热水", customer=contact, status="resolved")
    with transaction(app.state.writer) as session:
        messages.add_message(
            session, actor=factory.principal(customer), ticket_id=ticket.id,
            body="还是不行", kind="reply",
        )  # fmt: skip
    with transaction(app.state.reader) as session:
        reopened = tickets_service.get_ticket(
            session, actor=Principal.system(), ticket_id=ticket.id
        )
        assert (reopened.status, reopened.resolved_at) == ("open", None)
        assert reopened.version == ticket.version + 1
    stale = TicketUpdate(priority="high", version=ticket.version)
    with pytest.raises(Conflict), transaction(app.state.writer) as session:
        tickets_service.update_ticket(
            session, actor=Principal.system(), ticket_id=ticket.id, data=stale
        )
