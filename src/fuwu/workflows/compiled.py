"""A published workflow ready to run: its steps by status, guards compiled once, and the
answers the engine and the ticket page need (which steps this person may take now, and why
not the others)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fuwu.auth.principal import Principal
from fuwu.conditions import tree as conditions
from fuwu.conditions.schema import FieldRef
from fuwu.errors import ValidationFailed
from fuwu.workflows.approval import Approval, outcome_steps
from fuwu.workflows.definition import Definition, Transition

MAX_AUTOMATIC = 10  # automatic steps in a row after one change (a loop stops here)
REASON = "workflow:"  # history's reason for a value the engine set: "workflow:<step>"


def reason_for(key: str) -> str:
    """The history reason of a value set by the step (or cause) `key`."""
    return f"{REASON}{key}"


@dataclass(frozen=True, slots=True)
class Step:
    """A transition with its guard compiled (None: always open)."""

    transition: Transition
    guard: conditions.Condition | None

    @property
    def key(self) -> str:
        return self.transition.key

    def holds(self, record: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
        return self.guard is None or self.guard.evaluate(record, variables=variables)

    def may_take(self, actor: Principal, record: Mapping[str, Any]) -> bool:
        """Whether `actor` is someone this step names (its roles, teams, the ticket's
        assignee, the ticket's customer); a step that names nobody is open to all staff."""
        who = self.transition.who
        if not actor.is_staff:
            return (
                who.customer
                and actor.contact_id is not None
                and (record.get("customer") == actor.contact_id)
            )
        if who.anyone_on_staff:
            return True
        mine = actor.user_id is not None and record.get("assignee") == actor.user_id
        return (
            actor.role in who.roles
            or bool(actor.team_ids.intersection(who.teams))
            or (who.assignee and mine)
        )

    def missing(self, record: Mapping[str, Any]) -> list[str]:
        """The fields this step requires that have no value."""
        return [k for k in self.transition.require if record.get(k) in (None, "", [], {})]


@dataclass(frozen=True)
class Workflow:
    key: str
    version: int
    definition: Definition
    steps: tuple[Step, ...]
    outcomes: Mapping[str, frozenset[str]]  # approval status → the steps its outcome takes

    @property
    def initial(self) -> str:
        return self.definition.initial

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)

    def step_of(self, reason: str) -> Step | None:
        """The step a history reason names (`reason_for`), if it names one."""
        return self.step(reason.removeprefix(REASON)) if reason.startswith(REASON) else None

    def approval(self, status: str) -> Approval | None:
        """The approval a ticket in `status` waits for (None: it is not an approval state)."""
        return self.definition.approvals.get(status)

    def manual_from(self, status: str) -> list[Step]:
        """The steps people take from `status`, in the workflow's order: in an approval
        state, not the ones its outcome takes (approvers decide, not buttons)."""
        taken = self.outcomes.get(status, frozenset())
        return [s for s in self._from(status) if not s.transition.automatic and s.key not in taken]

    def automatic_from(self, status: str) -> list[Step]:
        """The steps the engine takes from `status` when their guards hold, in order."""
        return [s for s in self._from(status) if s.transition.automatic]

    def _from(self, status: str) -> list[Step]:
        return [s for s in self.steps if status in s.transition.from_]


def compile_workflow(
    key: str, version: int, definition: Definition, fields: Mapping[str, FieldRef]
) -> Workflow:
    """The runnable workflow. A guard that no longer parses (a field it tests was removed
    since it was published) never holds: the step stays shut rather than open to all."""
    steps = []
    for transition in definition.transitions:
        guard = None
        if transition.guard is not None:
            try:
                guard = conditions.parse(transition.guard, dict(fields))
            except ValidationFailed:
                guard = conditions.parse({"not": {"all": []}}, {})
        steps.append(Step(transition, guard))
    return Workflow(
        key=key, version=version, definition=definition, steps=tuple(steps),
        outcomes=outcome_steps(definition.approvals),
    )  # fmt: skip
