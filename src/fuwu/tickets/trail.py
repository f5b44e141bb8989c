"""The three records of every ticket change: its history row, its domain event, its audit row.

Always written together, from the diff of the change (ADR 0006): the history for the ticket's
timeline, the `ticket.created` / `ticket.updated` event the engines and subscribers react to,
the audit row for compliance.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from fuwu.audit import service as audit
from fuwu.auth.principal import Principal
from fuwu.db import Children, New, table
from fuwu.jobs import service as jobs
from fuwu.kit.time import utcnow
from fuwu.tickets.models import TicketEvent

_INSERT_HISTORY = insert(table(TicketEvent))


def history(
    actor: Principal,
    kind: str,
    changes: dict[str, Any],
    ticket_id: int | None = None,
    reasons: dict[str, str] | None = None,
    at: datetime | None = None,
) -> Children:
    """The timeline row of a change (of the ticket being inserted, when no id is given),
    made `at` (default now)."""
    row = {"ticket_id": New() if ticket_id is None else ticket_id, "actor_id": actor.user_id,
           "actor_name": actor.name, "kind": kind, "changes": changes,
           "reasons": reasons or None, "created_at": at or utcnow()}  # fmt: skip
    return Children(table(TicketEvent), [row])


def record_change(
    session: Session,
    *,
    ticket_id: int,
    actor: Principal,
    old: dict[str, Any],
    new: dict[str, Any],
    ip: str | None = None,
    cause: str = "updated",
    reasons: dict[str, str] | None = None,
    at: datetime | None = None,
) -> None:
    """History row, `ticket.updated` event and audit row for one change of a ticket, whatever
    made it: `cause` names it on the timeline ("updated"; "reopened" by a customer's reply)
    and in the event's payload, so the engines see every change as the same event."""
    changes = {k: [old.get(k), new[k]] for k in new}
    [row] = history(actor, cause, changes, ticket_id, reasons, at).rows
    session.execute(_INSERT_HISTORY, row)
    payload: dict[str, Any] = {"changes": changes, "cause": cause}
    if reasons:
        payload["reasons"] = reasons
    jobs.emit(
        session, "ticket.updated", entity="ticket", entity_id=ticket_id,
        actor_id=actor.user_id, payload=payload,
    )  # fmt: skip
    audit.record(
        session, actor_id=actor.user_id, actor_name=actor.name, action="update",
        entity="ticket", entity_id=ticket_id, before=old, after=new, ip=ip,
    )  # fmt: skip
