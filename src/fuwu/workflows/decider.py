"""The process engine's part in every ticket change (`fuwu.fields.deciders`).

For a ticket whose type a published workflow governs:
- a new ticket starts in the workflow's initial status (asking for another is refused);
- a status the actor asks for must be a step of the workflow from the current status that this
  person may take (403), whose guard holds (409) and whose required fields have values (422);
  a named step (`Proposal.intent`, the ticket page's buttons) must start where the ticket is;
- a status the pipeline only implied (an assignment opening a new ticket) is not a step: the
  ticket stays where it was;
- a customer's reply reopens a resolved ticket to the workflow's reopen status;
- the end of an approval round (cause "approval") takes the approval's outcome step whoever
  decided (the votes are the authority), or returns the ticket to the status the round chose;
- then automatic steps whose guard holds are taken, one after another;
- the steps' `set` values come with the status, each recorded with the step as its reason.
Tickets of other types keep the free status field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from fuwu.errors import Conflict, PermissionDenied, ValidationFailed, field_error
from fuwu.fields.deciders import Decision, Proposal
from fuwu.fields.forms.validation import variables_for
from fuwu.workflows import service, statuses
from fuwu.workflows.compiled import MAX_AUTOMATIC, Step, Workflow, reason_for


class _Record(MutableMapping[str, Any]):
    """A ticket's values as guards read them, with `open_children` (what guards may test
    besides its fields) counted only when one reads it, plus the children a step taken in this
    change will open."""

    def __init__(self, data: Mapping[str, Any], count: Callable[[], int]) -> None:
        self._data = dict(data)
        self._count = count
        self.opened = 0

    def __getitem__(self, key: str) -> Any:
        if key in self._data:
            return self._data[key]
        if key == service.OPEN_CHILDREN:
            return self._count() + self.opened
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class WorkflowDecider:
    name = "workflow"

    def decide(self, session: Session, proposal: Proposal) -> Decision | None:
        if proposal.entity != "ticket":
            return None
        pinned = proposal.before.workflow if proposal.before is not None else None
        workflow = service.for_ticket(session, proposal.after["type"], pinned,
                                      repin=proposal.cause == "migrated")  # fmt: skip
        if workflow is None:
            return None
        variables = variables_for(proposal.actor_id, proposal.timezone)
        facts = self._counter(session, proposal)
        status, values, reason = self._asked(session, workflow, proposal, variables, facts)
        record = _Record({**proposal.after.data, **values, "status": status}, facts)
        self._opens(workflow, reason, record)
        for _ in range(MAX_AUTOMATIC):
            step = next(
                (s for s in workflow.automatic_from(status) if s.holds(record, variables)), None
            )
            if step is None:
                break
            status = step.transition.to
            values.update(step.transition.set)
            record.update(step.transition.set, status=status)
            reason = reason_for(step.key)
            self._opens(workflow, reason, record)
        self._check_children(session, workflow, proposal, status)
        values["status"] = status
        return Decision(values=values, reason=reason or reason_for(workflow.key))

    def _counter(self, session: Session, proposal: Proposal) -> Callable[[], int]:
        """How many of the ticket's child tickets are open, counted once and only when a guard
        reads `open_children`."""
        ticket_id = proposal.before.id if proposal.before is not None else None

        @cache
        def count() -> int:
            return service.ticket_facts().open_children(session, ticket_id) if ticket_id else 0

        return count

    def _opens(self, workflow: Workflow, reason: str, record: _Record) -> None:
        """The children the step just taken will open count as open for the next guards."""
        step = workflow.step_of(reason)
        if step is not None:
            record.opened += len(step.transition.children)

    def _check_children(
        self, session: Session, workflow: Workflow, proposal: Proposal, status: str
    ) -> None:
        """A ticket is not resolved or closed while tickets opened under it are open, unless
        the workflow allows it."""
        before = proposal.before
        if before is None or before.id is None or workflow.definition.close_with_open_children:
            return
        done = ("resolved", "closed")
        if statuses.category_of(session, status) not in done:
            return
        if statuses.category_of(session, before["status"]) in done:
            return
        count = service.ticket_facts().open_children(session, before.id)
        if count:
            raise Conflict(
                "%(count)s tickets opened under this one are still open; close them first.",
                count=count,
            )

    def _asked(
        self,
        session: Session,
        workflow: Workflow,
        proposal: Proposal,
        variables: Mapping[str, Any],
        facts: Callable[[], int],
    ) -> tuple[str, dict[str, Any], str]:
        """The status the actor's request leads to, the values its step sets, and why."""
        before, asked = proposal.before, proposal.asked
        if before is None:
            wanted = asked.get("status")
            if wanted is not None and wanted != workflow.initial:
                raise ValidationFailed.single("status", "not_initial", detail=workflow.initial)
            return workflow.initial, {}, ""
        if proposal.cause in ("approval", "migrated", "timer"):
            return self._approval(workflow, proposal, variables, facts)
        if proposal.cause == "reopened":
            catalogue = statuses.catalogue(session).statuses
            categories = {k: s.category for k, s in catalogue.items()}
            return workflow.definition.reopen_status(categories), {}, reason_for("reopen")
        current = before["status"]
        self._check_locked(workflow, proposal, current)
        if proposal.intent:
            step = workflow.step(proposal.intent)
            if step is None or step.transition.automatic:
                raise ValidationFailed.single("transition", "not_found")
            if current not in step.transition.from_:
                raise Conflict(
                    "This step cannot be taken from the ticket's current status; reload it."
                )
            return self._taken(step, proposal, variables, facts)
        wanted = asked.get("status", current)
        if wanted == current:
            return current, {}, ""
        steps = [s for s in workflow.manual_from(current) if s.transition.to == wanted]
        if not steps:
            raise ValidationFailed.single("status", "no_transition")
        actor = proposal.actor
        fitting = [s for s in steps if actor is None or s.may_take(actor, proposal.after.data)]
        if not fitting:
            raise PermissionDenied("You may not take this step.")
        return self._taken(fitting[0], proposal, variables, facts)

    def _check_locked(self, workflow: Workflow, proposal: Proposal, status: str) -> None:
        """Fields the workflow locks in the ticket's status ("read", "hidden") keep their
        values, whoever asks (the fields the step being taken requires excepted)."""
        rules = workflow.definition.fields.get(status)
        if not rules or proposal.before is None:
            return
        step = workflow.step(proposal.intent) if proposal.intent else None
        needed = set(step.transition.require) if step is not None else set()
        changed = [
            k for k in rules
            if k in proposal.asked and k not in needed
            and proposal.after.get(k) != proposal.before.get(k)
        ]  # fmt: skip
        if changed:
            raise ValidationFailed([field_error(k, "locked_in_status") for k in changed])

    def _approval(
        self,
        workflow: Workflow,
        proposal: Proposal,
        variables: Mapping[str, Any],
        facts: Callable[[], int],
    ) -> tuple[str, dict[str, Any], str]:
        """A round's end moves the ticket (`fuwu.tickets.approvals` checked who decided): the
        approval's outcome step, whose guard and required fields still count; or, sent back
        or withdrawn, to the status the round chose. A migration to a new version (cause
        "migrated") moves it to the status its administrator mapped; a timer (cause "timer")
        takes its step whoever may take it by hand."""
        if proposal.intent:
            step = workflow.step(proposal.intent)
            if step is None:
                raise ValidationFailed.single("transition", "not_found")
            return self._taken(step, proposal, variables, facts, anyone=True)
        wanted = proposal.asked.get("status", proposal.after["status"])
        if wanted not in workflow.definition.statuses:
            raise ValidationFailed.single("status", "not_in_workflow")
        return str(wanted), {}, reason_for(proposal.cause)

    def _taken(
        self,
        step: Step,
        proposal: Proposal,
        variables: Mapping[str, Any],
        facts: Callable[[], int],
        *,
        anyone: bool = False,
    ) -> tuple[str, dict[str, Any], str]:
        record = _Record(proposal.after.data, facts)
        if not anyone and proposal.actor is not None and not step.may_take(proposal.actor, record):
            raise PermissionDenied("You may not take this step.")
        missing = step.missing(record)
        if missing:
            raise ValidationFailed([field_error(k, "required_for_step") for k in missing])
        if not step.holds(record, variables):
            raise Conflict("The condition of this step does not hold for the ticket now.")
        return step.transition.to, dict(step.transition.set), reason_for(step.key)
