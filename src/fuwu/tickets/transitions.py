"""The steps of a ticket's workflow as people take them: which ones this person may take now
(the ticket page's buttons, the API's list), and taking one through the change pipeline.

Taking a step is a change like any other (`pipeline.apply_change`) that names the step
(`Change.intent`); the process engine's decider checks who, the guard and the required fields,
and refuses with 403, 409 or 422 saying why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.errors import Conflict, NotFound, ValidationFailed, field_error
from fuwu.fields.forms.validation import variables_for
from fuwu.tickets import pipeline
from fuwu.tickets.models import Ticket
from fuwu.tickets.service import get_ticket
from fuwu.tickets.state import pin_of, state_of
from fuwu.workflows import service as workflows
from fuwu.workflows.compiled import Step, Workflow


@dataclass(frozen=True, slots=True)
class Available:
    """A step the actor may take now."""

    key: str
    label: str
    to: str
    require: tuple[str, ...]  # fields the step needs a value in (asked for when taken)


def workflow_of(session: Session, ticket: Ticket) -> Workflow | None:
    """The workflow version that moves this ticket (the one it is pinned to, ADR 0016)."""
    return workflows.for_ticket(session, ticket.type_key,
                                pin_of(ticket.workflow_key, ticket.workflow_version))  # fmt: skip


def available(
    session: Session, *, actor: Principal, ticket: Ticket, locale: str, timezone: str
) -> list[Available]:
    """The steps from the ticket's status that this person may take and whose guards hold."""
    return available_for(session, actor=actor, tickets=[ticket], locale=locale,
                         timezone=timezone)[ticket.id]  # fmt: skip


def available_for(
    session: Session,
    *,
    actor: Principal,
    tickets: Sequence[Ticket],
    locale: str,
    timezone: str,
) -> dict[int, list[Available]]:
    """`available` for a page of tickets at once: ticket id → its steps."""
    variables = variables_for(actor.user_id, timezone)
    found: dict[int, list[Available]] = {}
    for ticket in tickets:
        workflow = workflow_of(session, ticket)
        if workflow is None:
            found[ticket.id] = []
            continue
        state = state_of(ticket)
        found[ticket.id] = [
            _available(step, locale)
            for step in workflow.manual_from(state["status"])
            if step.may_take(actor, state.data) and step.holds(state.data, variables)
        ]
    return found


def _available(step: Step, locale: str) -> Available:
    t = step.transition
    return Available(key=t.key, label=t.label.of(locale), to=t.to, require=tuple(t.require))


def take(
    session: Session,
    *,
    actor: Principal,
    ticket_id: int,
    key: str,
    values: Mapping[str, Any],
    version: int | None,
    timezone: str,
    ip: str | None = None,
) -> pipeline.Applied:
    """Take the step `key` with the values it requires (by registry key)."""
    ticket = get_ticket(session, actor=actor, ticket_id=ticket_id, people=False)
    workflow = workflow_of(session, ticket)
    step = workflow.step(key) if workflow is not None else None
    if step is None or step.transition.automatic:
        raise NotFound("This ticket's workflow has no step %(key)s.", key=key)
    if version is not None and version != ticket.version:
        raise Conflict(
            "Someone else changed this ticket (now version %(current)s, you had %(sent)s). "
            "Reload it and apply your change again.",
            current=ticket.version,
            sent=version,
        )
    extra = [k for k in values if k not in step.transition.require]
    if extra:
        raise ValidationFailed([field_error(k, "not_settable") for k in extra])
    applied = pipeline.apply_change(
        session, actor=actor, before=state_of(ticket),
        change=pipeline.Change({**values, "status": step.transition.to}, intent=key),
        where=pipeline.Where(timezone=timezone, ip=ip),
    )  # fmt: skip
    session.expire(ticket)
    return applied
