"""What a customer may see and do on a ticket page; the live-update stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.tickets import messages, views
from fuwu.tickets import service as tickets_service
from fuwu.tickets.schemas import CustomerIn, TicketCreate

from .conftest import Browser


def customer_ticket(app: FastAPI, email: str = "lilei@example.com") -> int:
    """A ticket of the given customer with a public reply and an internal note."""
    settings = app.state.settings
    system = Principal.system()
    with transaction(app.state.writer) as session:
        ticket = tickets_service.create_ticket(
            session,
            actor=system,
            data=TicketCreate(subject="Router keeps rebooting", customer=CustomerIn(email=email)),
            number_pattern=settings.ticket_number_pattern,
            timezone=settings.timezone,
        )
        messages.add_message(
            session,
            actor=system,
            ticket_id=ticket.id,
            kind="reply",
            body="Please send us the serial number.",
        )
        messages.add_message(
            session,
            actor=system,
            ticket_id=ticket.id,
            kind="note",
            body="SECRET: known firmware bug, replace unit.",
        )
        return ticket.id


def test_agent_sees_internal_notes_marked_as_such(app: FastAPI, agent: Browser) -> None:
    ticket_id = customer_ticket(app)
    page = agent.get(f"/tickets/{ticket_id}").text
    assert "SECRET: known firmware bug" in page
    assert 'class="msg note"' in page
    assert "Internal note" in page
    assert 'id="ticket-edit"' in page


def test_customer_sees_replies_but_no_notes_and_no_edit_form(
    app: FastAPI, sign_in_as: Callable[[str], Browser]
) -> None:
    ticket_id = customer_ticket(app)
    customer = sign_in_as("customer1")
    page = customer.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200
    assert "Please send us the serial number." in page.text
    assert "SECRET" not in page.text
    assert 'id="ticket-edit"' not in page.text
    assert 'value="note"' not in page.text
    reply = customer.post(
        f"/tickets/{ticket_id}/messages", {"body": "Serial is X1", "kind": "reply"}, htmx=True
    )
    assert reply.status_code == 200
    assert "Serial is X1" in reply.text
    assert "SECRET" not in reply.text
    assert "ticket-version" not in reply.text


def test_customer_cannot_write_notes_or_edit_fields(
    app: FastAPI, sign_in_as: Callable[[str], Browser]
) -> None:
    ticket_id = customer_ticket(app)
    customer = sign_in_as("customer1")
    note = customer.post(f"/tickets/{ticket_id}/messages", {"body": "sneaky", "kind": "note"})
    assert note.status_code == 403
    edit = customer.post(f"/tickets/{ticket_id}", {"status": "closed", "version": "1"})
    assert edit.status_code == 403
    assert "sneaky" not in customer.get(f"/tickets/{ticket_id}").text


def test_customer_cannot_open_another_customers_ticket(
    app: FastAPI, sign_in_as: Callable[[str], Browser]
) -> None:
    ticket_id = customer_ticket(app, email="someone.else@example.com")
    customer = sign_in_as("customer1")
    response = customer.get(f"/tickets/{ticket_id}")
    assert response.status_code == 404
    assert "Router keeps rebooting" not in response.text


def test_customer_create_form_is_reduced_and_works(sign_in_as: Callable[[str], Browser]) -> None:
    customer = sign_in_as("customer1")
    form = customer.get("/tickets/new").text
    assert 'name="subject"' in form
    assert 'name="priority"' in form
    assert 'name="assignee_id"' not in form
    assert 'name="customer_email"' not in form
    created = customer.post("/tickets/new", {"subject": "My screen flickers", "priority": "low"})
    assert created.status_code == 303
    assert "My screen flickers" in customer.get("/inbox").text


def test_event_stream_requires_sign_in(client: TestClient) -> None:
    response = client.get("/inbox/events", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    htmx = client.get("/inbox/events", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"] == "/login"


def test_event_stream_says_changed_when_a_ticket_is_created(
    app: FastAPI, agent: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "SSE_POLL_SECONDS", 0.1)
    monkeypatch.setattr(views, "SSE_MAX_SECONDS", 1.5)
    monkeypatch.setattr(views, "SSE_HEARTBEAT_SECONDS", 0.3)

    def create_later() -> None:
        time.sleep(0.5)
        customer_ticket(app, email="elsewhere@example.com")

    worker = threading.Thread(target=create_later)
    worker.start()
    response = agent.get("/inbox/events")
    worker.join()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: changed" in response.text
    assert ": heartbeat" in response.text
    assert "Router" not in response.text  # says nothing more
    assert "elsewhere" not in response.text


def test_event_stream_is_quiet_without_changes(
    agent: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "SSE_POLL_SECONDS", 0.1)
    monkeypatch.setattr(views, "SSE_MAX_SECONDS", 0.5)
    response = agent.get("/inbox/events")
    assert response.status_code == 200
    assert "event: changed" not in response.text
