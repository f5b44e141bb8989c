"""The one way a ticket changes (ARCHITECTURE.md, "One way to write a ticket").

`apply_change` takes the state before (None for a new ticket) and the values asked for, and:
1. derives what the change implies (a new ticket assigned is open; a ticket moved to a team
   its assignee is not in is handed back);
2. validates all of it at once — the people it names and the custom fields by the form of its
   type, as the caller's surface lays it out — and reports every error in one answer;
3. asks the installed deciders (`fuwu.fields.deciders`) what follows, in their order, until
   their decisions settle;
4. writes through the one writer, which records history, event and audit rows from the diff,
   and queues the deciders' side effects as jobs in the same transaction.
Every entry point (API, agent pages, portal, web form, replies, CLI) goes through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.errors import Conflict, FieldError, ValidationFailed
from fuwu.fields.deciders import Action, Proposal, installed
from fuwu.jobs import service as jobs
from fuwu.kit.time import utcnow
from fuwu.tickets import custom as custom_fields
from fuwu.tickets import follow, numbering, repository, writer
from fuwu.tickets.changes import Applied as Applied
from fuwu.tickets.changes import Change as Change
from fuwu.tickets.changes import Where as Where
from fuwu.tickets.repository import PeopleRefs
from fuwu.tickets.state import SYSTEM_COLUMNS, TicketState, custom_of
from fuwu.workflows import service as workflows
from fuwu.workflows import statuses

# Rounds of deciders before a change is refused as one that never settles (rules that keep
# undoing each other): each round runs every decider on the state the last one left.
CYCLE_LIMIT = 8
PEOPLE = ("customer", "team", "assignee")
_UNREAD = PeopleRefs(
    customer=None,
    customer_organisation_id=None,
    organisation=None,
    team=None,
    assignee=None,
    assignee_active=False,
    assignee_role=None,
    assignee_in_team=False,
)


def apply_change(
    session: Session,
    *,
    actor: Principal,
    before: TicketState | None,
    change: Change,
    where: Where,
) -> Applied:
    """Validate, decide and write one change of a ticket (a new one when `before` is None)."""
    asked = {k: v for k, v in change.values.items() if k in SYSTEM_COLUMNS}
    submitted = {k: v for k, v in change.values.items() if k not in SYSTEM_COLUMNS}
    after = _implied(before, _routed(session, before, asked))
    errors: list[FieldError] = list(change.errors)
    refs = _people(session, before, after, asked, errors)
    after = _custom(session, actor, before, after, submitted, change, where, errors)
    if errors:
        raise ValidationFailed(errors)
    cleared = _cleared(session, actor, before, after, where)
    after, reasons, actions = _decide(session, actor, before, after, change, where)
    after = _pinned(session, before, after, change)
    if before is None or before["status"] != after["status"]:
        statuses.require_known(session, after["status"])
    reasons = {**cleared, **reasons}
    if any(before is None or before.get(k) != after.get(k) for k in PEOPLE) and reasons:
        refs = _checked_people(session, after)  # a decider routed it: still valid people
    now = where.at or utcnow()
    if before is None:
        row = writer.insert_ticket(
            session, actor=actor, state=after, refs=refs, reasons=reasons, now=now,
            attachments=change.attachments,
            number=numbering.numbered(
                pattern=where.number_pattern, timezone=where.timezone, at=now
            ),
        )  # fmt: skip
        state = TicketState(after.data, id=row.id, version=1, form_version=after.form_version)
        _queue(session, actions, row.id)
        applied = Applied(state=state, changed=True, row=row, reasons=reasons)
        return follow.written(session, actor, None, applied, where, now, apply_change)
    if (
        not before.diff(after)
        and after.form_version == before.form_version
        and after.workflow == before.workflow
    ):
        return Applied(state=before, changed=False)
    state = writer.update_ticket(
        session, actor=actor, before=before, after=after, refs=refs, cause=change.cause,
        checks_version=change.checks_version, reasons=reasons, ip=where.ip, now=now,
        attachments=change.attachments,
    )  # fmt: skip
    _queue(session, actions, state.id)
    applied = Applied(state=state, changed=True, reasons=reasons)
    return follow.written(session, actor, before, applied, where, now, apply_change)


def _pinned(
    session: Session, before: TicketState | None, after: TicketState, change: Change
) -> TicketState:
    """The state pinned to the workflow version that moves it (the deciders used the same):
    a new ticket to its type's published workflow, a ticket whose type changed to that type's,
    a migrated one (cause "migrated") to the newest version of its workflow."""
    pinned = before.workflow if before is not None else None
    workflow = workflows.for_ticket(session, after["type"], pinned,
                                    repin=change.cause == "migrated")  # fmt: skip
    pin = (workflow.key, workflow.version) if workflow is not None else None
    if pin == after.workflow:
        return after
    return TicketState(after.data, id=after.id, version=after.version,
                       form_version=after.form_version, workflow=pin)  # fmt: skip


def _routed(
    session: Session, before: TicketState | None, asked: Mapping[str, Any]
) -> dict[str, Any]:
    """The values asked for; a move to a team the assignee is not in hands the ticket back,
    unless the same request names the assignee."""
    if before is None or "team" not in asked or "assignee" in asked:
        return dict(asked)
    team_id, assignee_id = asked["team"], before.get("assignee")
    if (
        team_id is None
        or assignee_id is None
        or repository.is_member(session, team_id, assignee_id)
    ):
        return dict(asked)
    return {**asked, "assignee": None}


def _implied(before: TicketState | None, asked: Mapping[str, Any]) -> TicketState:
    """The state the request asks for, with the status an assignment implies."""
    if before is None:
        after = TicketState({"description": "", "tags": [], **asked})
        return after.but({"status": "open" if after.get("assignee") else "new"})
    after = before.but(asked)
    if after["status"] == "new" and after.get("assignee") is not None and "status" not in asked:
        after = after.but({"status": "open"})
    return after


def _people(
    session: Session,
    before: TicketState | None,
    after: TicketState,
    asked: Mapping[str, Any],
    errors: list[FieldError],
) -> PeopleRefs:
    """The people the ticket will name, read in one query; unknown or unfit ones that the
    change names are added to `errors`. A change of an existing ticket that names nobody
    reads nobody: the writer needs people only when they change."""
    if before is not None and not any(k in asked for k in PEOPLE):
        return _UNREAD
    refs = repository.people_refs(
        session,
        customer_id=after.get("customer"),
        team_id=after.get("team"),
        assignee_id=after.get("assignee"),
    )
    if before is None or any(k in asked for k in PEOPLE):
        errors.extend(people_errors(refs, after, asked))
    return refs


def people_errors(
    refs: PeopleRefs, state: Mapping[str, Any], asked: Mapping[str, Any]
) -> list[FieldError]:
    """An error for each person named that does not exist or does not fit."""
    errors: list[FieldError] = []
    if "customer" in asked and state.get("customer") is not None and refs.customer is None:
        errors.append({"field": "customer_id", "code": "not_found", "params": {}})
    team_id, assignee_id = state.get("team"), state.get("assignee")
    if team_id is not None and refs.team is None:
        errors.append({"field": "team_id", "code": "not_found", "params": {}})
    if assignee_id is not None:
        if refs.assignee is None or not refs.assignee_active or refs.assignee_role == "customer":
            errors.append({"field": "assignee_id", "code": "not_found", "params": {}})
        elif team_id is not None and refs.team is not None and not refs.assignee_in_team:
            errors.append({"field": "assignee_id", "code": "not_in_team", "params": {}})
    return errors


def _checked_people(session: Session, state: TicketState) -> PeopleRefs:
    refs = repository.people_refs(
        session, customer_id=state.get("customer"), team_id=state.get("team"),
        assignee_id=state.get("assignee"),
    )  # fmt: skip
    errors = people_errors(refs, state, {k: state.get(k) for k in PEOPLE})
    if errors:
        raise ValidationFailed(errors)
    return refs


def _custom(
    session: Session,
    actor: Principal,
    before: TicketState | None,
    after: TicketState,
    submitted: Mapping[str, Any],
    change: Change,
    where: Where,
    errors: list[FieldError],
) -> TicketState:
    """The state with its custom values as the type's form makes them (formulas computed,
    hidden fields cleared), or `errors` extended with every problem of the custom fields."""
    system = {k: after.get(k) for k in SYSTEM_COLUMNS}
    type_changed = before is not None and before["type"] != after["type"]
    if before is not None and not submitted and not type_changed:
        return after
    surface = change.surface or custom_fields.surface_for(
        staff=actor.is_staff, creating=before is None
    )
    try:
        if before is None:
            values, form_version = custom_fields.on_create(
                session, type_key=after["type"], surface=surface, submitted=submitted,
                system=system, timezone=where.timezone, actor_id=actor.user_id,
            )  # fmt: skip
        else:
            values, form_version = custom_fields.on_update(
                session, ticket_id=before.id or 0, type_key=after["type"],
                form_version=before.form_version, type_changed=type_changed, surface=surface,
                submitted=submitted, previous=custom_of(before), system=system,
                timezone=where.timezone, actor_id=actor.user_id,
            )  # fmt: skip
    except ValidationFailed as exc:
        errors.extend(exc.errors)
        return after
    return TicketState(
        {**system, **values},
        id=after.id,
        version=after.version,
        form_version=form_version,
        workflow=after.workflow,
    )


def _cleared(
    session: Session,
    actor: Principal,
    before: TicketState | None,
    after: TicketState,
    where: Where,
) -> dict[str, str]:
    """Custom values the form's logic cleared in this change → why ("form:<rule name>")."""
    if before is None:
        return {}
    lost = {k: v for k, v in custom_of(before).items() if v not in (None, "", [], {})}
    lost = {k: v for k, v in lost.items() if after.get(k) in (None, "", [], {})}
    if not lost:
        return {}
    rules = custom_fields.cleared_by_logic(
        session, type_key=after["type"], form_version=after.form_version, previous=lost,
        record=after, timezone=where.timezone, actor_id=actor.user_id,
    )  # fmt: skip
    return {key: f"form:{name}" for key, name in rules.items()}


def _decide(
    session: Session,
    actor: Principal,
    before: TicketState | None,
    after: TicketState,
    change: Change,
    where: Where,
) -> tuple[TicketState, dict[str, str], list[Action]]:
    """The state once every decider has had its say, why each decided value changed, and the
    side effects they asked for (one per key)."""
    deciders = installed(session)
    reasons: dict[str, str] = {}
    actions: dict[str, Action] = {}
    for _ in range(CYCLE_LIMIT):
        settled = True
        for decider in deciders:
            proposal = Proposal(
                entity="ticket", cause=change.cause, actor_id=actor.user_id,
                actor_is_staff=actor.is_staff, before=before, after=after, actor=actor,
                asked=change.values, intent=change.intent, timezone=where.timezone,
            )  # fmt: skip
            decision = decider.decide(session, proposal)
            if decision is None:
                continue
            actions.update((a.key, a) for a in decision.actions)
            changed = {k: v for k, v in decision.values.items() if after.get(k) != v}
            # Why a value differs from before: the decider that set it, or that took the step
            # which asked for it (a workflow transition the actor chose).
            claimed = [
                k for k, v in decision.values.items() if before is None or before.get(k) != v
            ]
            reasons.update(dict.fromkeys(claimed, decision.reason or decider.name))
            if changed:
                settled = False
                after = after.but(changed)
        if settled:
            return after, reasons, list(actions.values())
    raise Conflict(
        "The automatic rules keep changing this ticket back and forth; nothing was saved. "
        "Ask an administrator to check the rules."
    )


def _queue(session: Session, actions: list[Action], ticket_id: int | None) -> None:
    """The deciders' side effects, as jobs that run after commit, each at most once."""
    for action in actions:
        jobs.enqueue(
            session,
            action.kind,
            {**action.payload, "ticket_id": ticket_id},
            idempotency_key=action.key,
        )
