"""Custom fields, published ticket types and stored tickets for tests, through the services
(as the system) on an app's database."""

from __future__ import annotations

from typing import Any

from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.schemas import FieldCreate
from fuwu.tickets.models import Ticket
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.schemas import TicketTypeCreate

TZ = "Asia/Shanghai"


def add_field(
    app: Any, entity: str, key: str, type_: str, zh: str | None = None, **extra: Any
) -> None:
    """A custom field labelled `zh` in Chinese (default its key) and its key titled in English."""
    data = FieldCreate(entity=entity, key=key, type=type_,  # type: ignore[arg-type]
                       label={"zh_CN": zh or key, "en": key.title()}, **extra)  # fmt: skip
    with transaction(app.state.writer) as session:
        fields_service.create_field(session, actor=Principal.system(), data=data)


def publish_type(app: Any, key: str, definition: dict[str, Any]) -> None:
    """A ticket type `key` with its form published as `definition`."""
    system = Principal.system()
    with transaction(app.state.writer) as session:
        ticket_types.create_type(
            session, actor=system,
            data=TicketTypeCreate(key=key, name={"zh_CN": key, "en": key.title()}),
        )  # fmt: skip
        ticket_types.save_draft(session, actor=system, key=key, definition=definition, timezone=TZ)
        ticket_types.publish(session, actor=system, key=key, timezone=TZ)


def engineer_type(app: Any) -> None:
    """A `visit` type whose create and edit layouts hold one user field, `engineer`."""
    add_field(app, "ticket", "engineer", "user", "工程师")
    layout = [{"fields": ["engineer"]}]
    layouts = {"agent_create": layout, "agent_edit": layout}
    publish_type(app, "visit", {"fields": [{"key": "engineer"}], "layouts": layouts})


def stored_ticket(app: Any, ticket_id: int) -> Ticket:
    """The ticket as stored now, detached from its session."""
    with transaction(app.state.reader) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        session.expunge(ticket)
        return ticket
