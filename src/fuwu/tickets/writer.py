"""The one writer of `ticket` rows: a new ticket in one statement, a change in one UPDATE,
and the touch of a message on it (`touch`: its update time, its first answer).

Both write the trail of the change with it (`trail`): the create's history, event and audit
rows ride in the INSERT itself (a single round trip on PostgreSQL, docs/benchmarks.md), a
change's follow its UPDATE. Only the change pipeline (`pipeline.apply_change`) writes
changes; messages (`messages.add_message`) only touch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, update
from sqlalchemy.orm import Session

from fuwu.audit import service as audit
from fuwu.auth.principal import Principal
from fuwu.db import Children, New, Numbered, insert_with_children, table
from fuwu.errors import Conflict
from fuwu.jobs import service as jobs
from fuwu.tickets import trail
from fuwu.tickets.models import Attachment, Ticket, TicketTag
from fuwu.tickets.repository import ROW_COLUMNS, PeopleRefs, TicketRow
from fuwu.tickets.state import SYSTEM_COLUMNS, TicketState, custom_of, snapshot
from fuwu.tickets.statuses import OPEN_CATEGORIES, PRIORITIES
from fuwu.workflows import statuses


def status_columns(
    key: str, category: str, *, now: datetime, stored: bool = False
) -> dict[str, Any]:
    """The columns a status sets: its category, whether it is open, and the resolved/closed
    times (a resolved time already `stored` is kept; an open ticket has neither)."""
    values: dict[str, Any] = {
        "status": key,
        "status_category": category,
        "is_open": category in OPEN_CATEGORIES,
    }
    resolved = func.coalesce(Ticket.resolved_at, now) if stored else now
    if category == "resolved":
        values["resolved_at"] = resolved
    elif category == "closed":
        values.update(resolved_at=resolved, closed_at=now)
    else:
        values.update(resolved_at=None, closed_at=None)
    return values


def insert_ticket(
    session: Session,
    *,
    actor: Principal,
    state: TicketState,
    refs: PeopleRefs,
    number: Numbered,
    reasons: Mapping[str, str],
    now: datetime,
    attachments: Sequence[int] = (),
) -> TicketRow:
    """The new ticket, its number, its tags and the three records of its creation, in one
    statement; the answer is built from the values written and the names already read."""
    category = statuses.category_of(session, state["status"]) or "new"  # the pipeline checked it
    values = _new_columns(
        actor=actor, state=state, refs=refs, number=number, category=category, now=now
    )
    channel = values["channel"]
    event = jobs.pending_event(
        "ticket.created", entity="ticket", actor_id=actor.user_id, payload={"number": New("number")}
    )
    new = insert_with_children(
        session,
        table(Ticket),
        values,
        [
            Children(table(TicketTag), [{"ticket_id": New(), "tag": t} for t in values["tags"]]),
            trail.history(actor, "created", {"channel": channel, "status": values["status"]},
                          reasons=_trail_reasons(reasons), at=now),
            *([event] if event else []),
            audit.pending_record(
                actor_id=actor.user_id, actor_name=actor.name, action="create",
                entity="ticket", after={"number": New("number"), **snapshot(state)},
            ),
        ],
    )  # fmt: skip
    if event is None:  # subscribers' jobs need the event id
        jobs.emit(session, "ticket.created", entity="ticket", entity_id=new["id"],
                  actor_id=actor.user_id, payload={"number": new["number"]})  # fmt: skip
    claim(session, attachments, new["id"])  # the files posted with it, staged before it existed
    # As stored: the values written, the new id and number, None where nothing was written.
    stored: dict[str, Any] = {k: values.get(k) for k in ROW_COLUMNS} | new
    return TicketRow(
        **stored,
        customer=refs.customer,
        organisation=refs.organisation if refs.customer else None,
        assignee=refs.assignee,
        team=refs.team,
    )


_TOUCH = (
    update(Ticket)
    .where(Ticket.id == bindparam("ticket_id"))
    .values(updated_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)
_TOUCH_ANSWERED = _TOUCH.values(
    first_response_at=func.coalesce(Ticket.first_response_at, bindparam("now"))
)


def touch(session: Session, ticket_id: int, *, now: datetime, answered: bool) -> None:
    """Mark a ticket updated by a message on it, and first answered when `answered` (an agent's
    reply). A plain UPDATE without the version: two people replying at once both succeed,
    and a message alone does not make an agent's open edit of the fields stale (no 409)."""
    session.execute(_TOUCH_ANSWERED if answered else _TOUCH, {"ticket_id": ticket_id, "now": now})


def claim(session: Session, attachments: Sequence[int], ticket_id: int) -> None:
    """Give staged files (`tickets.uploads.stage`) to their ticket, in the change's transaction."""
    if attachments:
        session.execute(
            update(Attachment)
            .where(Attachment.id.in_(attachments), Attachment.ticket_id.is_(None))
            .values(ticket_id=ticket_id),
            execution_options={"synchronize_session": False},
        )


def _new_columns(
    *,
    actor: Principal,
    state: TicketState,
    refs: PeopleRefs,
    number: Numbered,
    category: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "number": number,
        "subject": state["subject"],
        "description": state.get("description") or "",
        "type_key": state["type"],
        "priority": state["priority"],
        "priority_rank": PRIORITIES[state["priority"]],
        "channel": state["channel"],
        "customer_id": refs.customer.id if refs.customer else None,
        "organisation_id": refs.customer_organisation_id if refs.customer else None,
        "assignee_id": refs.assignee.id if refs.assignee else None,
        "team_id": refs.team.id if refs.team else None,
        "created_by_id": actor.user_id,
        "custom": custom_of(state),
        "form_version": state.form_version,
        "parent_id": state.get("parent"),
        "workflow_key": state.workflow[0] if state.workflow else None,
        "workflow_version": state.workflow[1] if state.workflow else None,
        "tags": list(state["tags"]),
        "created_at": now,
        "updated_at": now,
        "version": 1,
        **status_columns(state["status"], category, now=now),
    }


def update_ticket(
    session: Session,
    *,
    actor: Principal,
    before: TicketState,
    after: TicketState,
    refs: PeopleRefs,
    cause: str,
    checks_version: bool,
    reasons: Mapping[str, str],
    ip: str | None,
    now: datetime,
    attachments: Sequence[int] = (),
) -> TicketState:
    """Write what changed from `before` to `after` and its trail; the state as stored now.

    A plain UPDATE guarded by the version read (409 when someone changed the ticket since),
    unless the change must not fail on a concurrent one (a customer's reply that reopens).
    """
    assert before.id is not None
    assert before.version is not None
    columns = _changed_columns(session, before, after, refs, now)
    stmt = update(Ticket).where(Ticket.id == before.id)
    if checks_version:
        stmt = stmt.where(Ticket.version == before.version)
    written = session.execute(
        stmt.values(**columns, updated_at=now, version=Ticket.version + 1),
        execution_options={"synchronize_session": False},
    )
    if written.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Someone else changed this ticket. Reload it and try again.")
    claim(session, attachments, before.id)
    if "tags" in columns:
        session.execute(delete(TicketTag).where(TicketTag.ticket_id == before.id))
        if columns["tags"]:
            session.execute(
                insert(TicketTag), [{"ticket_id": before.id, "tag": t} for t in columns["tags"]]
            )
    old, new = audit.diff(snapshot(before), snapshot(after))
    trail.record_change(
        session, ticket_id=before.id, actor=actor, old=old, new=new, ip=ip, cause=cause,
        reasons=_trail_reasons(reasons), at=now,
    )  # fmt: skip
    return TicketState(
        after.data, id=before.id, version=before.version + 1, form_version=after.form_version,
        workflow=after.workflow,
    )  # fmt: skip


def _changed_columns(
    session: Session, before: TicketState, after: TicketState, refs: PeopleRefs, now: datetime
) -> dict[str, Any]:
    """The columns to set for the values that differ, with what each implies."""
    columns: dict[str, Any] = {}
    diff = before.diff(after)
    for key, (_, value) in diff.items():
        if key == "status":
            category = statuses.category_of(session, value) or "open"  # the pipeline checked it
            columns.update(status_columns(value, category, now=now, stored=True))
        elif key == "priority":
            columns.update(priority=value, priority_rank=PRIORITIES[value])
        elif key == "tags":
            columns["tags"] = list(dict.fromkeys(value or []))
        elif key == "customer":
            columns.update(customer_id=value, organisation_id=refs.customer_organisation_id)
        elif key in SYSTEM_COLUMNS:
            columns[SYSTEM_COLUMNS[key]] = value
    custom_changed = any(k not in SYSTEM_COLUMNS for k in diff)
    if custom_changed or after.form_version != before.form_version:
        columns.update(custom=custom_of(after), form_version=after.form_version)
    if after.workflow != before.workflow:
        pin = after.workflow
        columns.update(
            workflow_key=pin[0] if pin else None, workflow_version=pin[1] if pin else None
        )
    return columns


def _trail_reasons(reasons: Mapping[str, str]) -> dict[str, str]:
    """Reasons under the trail's keys: column names, custom fields as `custom.<key>`."""
    return {SYSTEM_COLUMNS.get(k, f"custom.{k}"): v for k, v in reasons.items()}
