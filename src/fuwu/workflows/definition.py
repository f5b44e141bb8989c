"""A workflow as the administrator writes it, and the checks it must pass to be published.

    {"name": {"zh_CN": "报修流程", "en": "Repair"}, "types": ["repair"],
     "statuses": ["received", "dispatched", …], "initial": "received", "reopen": "processing",
     "transitions": [{"key": "dispatch", "from": ["received"], "to": "dispatched",
                      "label": {"zh_CN": "派工", "en": "Dispatch"},
                      "who": {"roles": ["supervisor"], "teams": [], "assignee": false,
                              "customer": false},
                      "guard": {"all": [{"field": "assignee", "op": "is_not_empty"}]},
                      "require": ["assignee"], "set": {"priority": "high"},
                      "automatic": false}]}

A transition is a step a person takes with a button (or a status edit that matches it), or an
automatic one (`automatic`) the engine takes as soon as its guard holds after a change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fuwu.auth.models import STAFF_ROLES
from fuwu.conditions import tree as conditions
from fuwu.conditions.schema import FieldRef
from fuwu.errors import FieldError, ValidationFailed, field_error
from fuwu.workflows.approval import Approval, approval_problems

KIND = "workflow"  # its kind in config_version
UNCOPIED = frozenset({"status", "type", "subject"})  # a child has its own
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
MAX_TRANSITIONS = 200


class Labels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zh_CN: Label
    en: Label

    def of(self, locale: str) -> str:
        return self.zh_CN if locale == "zh_CN" else self.en


class Who(BaseModel):
    """Who may take a transition: anyone who fits one of these. All empty: any staff member."""

    model_config = ConfigDict(extra="forbid")

    roles: list[str] = Field(default_factory=list, max_length=len(STAFF_ROLES))
    teams: list[int] = Field(default_factory=list, max_length=100)
    assignee: bool = False  # the ticket's assignee
    customer: bool = False  # the ticket's customer, from the portal

    @property
    def anyone_on_staff(self) -> bool:
        return not (self.roles or self.teams or self.assignee or self.customer)


class Child(BaseModel):
    """A ticket a step opens under the ticket (备件申请 under a 报修)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Key  # its ticket type
    # Its subject: "{subject}" and "{number}" stand for the parent's.
    subject: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "{subject}"
    # The parent's values it starts with: system fields (customer, priority, team, assignee)
    # or custom ones (the part number the step asked for).
    copy_fields: list[str] = Field(
        default_factory=lambda: ["customer", "priority"], alias="copy", max_length=30
    )


class Timer(BaseModel):
    """Something the engine does when a ticket has stayed in a status this long (24x7 hours
    until business calendars land): remind (the approvers whose turn it is, or the assignee),
    take a step, approve or reject the open approval, or hand the approvers' turn to `user`."""

    model_config = ConfigDict(extra="forbid")

    after_hours: float = Field(gt=0, le=24 * 366)
    action: Literal["remind", "step", "approve", "reject", "transfer"]
    step: Key | None = None  # for "step"
    user: int | None = Field(default=None, ge=1, le=2**31 - 1)  # for "transfer"


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    key: Key
    from_: list[Key] = Field(alias="from", min_length=1, max_length=100)
    to: Key
    label: Labels
    who: Who = Field(default_factory=Who)
    guard: dict[str, Any] | None = None  # the condition language (docs/adr/0007)
    require: list[str] = Field(default_factory=list, max_length=50)  # field keys
    set: dict[str, Any] = Field(default_factory=dict)  # field key → value, when taken
    automatic: bool = False
    children: list[Child] = Field(default_factory=list, max_length=10)  # opened when taken


class Definition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Labels
    types: list[Key] = Field(default_factory=list, max_length=100)  # ticket types it governs
    statuses: list[Key] = Field(min_length=1, max_length=100)
    initial: Key
    reopen: Key | None = None  # where a customer's reply takes a resolved ticket
    transitions: list[Transition] = Field(default_factory=list, max_length=MAX_TRANSITIONS)
    approvals: dict[Key, Approval] = Field(default_factory=dict, max_length=50)  # by status
    # Whether a ticket may be resolved or closed while tickets opened under it are still open.
    close_with_open_children: bool = False
    timers: dict[Key, list[Timer]] = Field(default_factory=dict, max_length=50)  # by status
    # Fields people may not change while a ticket is in a status (字段权限): "read" shows
    # them, "hidden" also leaves them out of the ticket page's details; by status, then field.
    fields: dict[Key, dict[str, Literal["read", "hidden"]]] = Field(
        default_factory=dict, max_length=50
    )

    def reopen_status(self, categories: Mapping[str, str]) -> str:
        """Where a customer's reply reopens to: `reopen`, else the first open status."""
        if self.reopen:
            return self.reopen
        opened = [s for s in self.statuses if categories.get(s) == "open"]
        return opened[0] if opened else self.initial


def problems(
    definition: Definition,
    *,
    categories: Mapping[str, str],
    fields: Mapping[str, FieldRef],
    writable: Sequence[str],
    user_fields: Collection[str] = ("assignee",),
) -> list[FieldError]:
    """Everything that keeps a definition from being published, each by its path: unknown
    statuses, fields or roles, bad guards, and a graph with statuses no ticket can reach or
    (unless closed) leave."""
    errors: list[FieldError] = []
    used = set(definition.statuses)
    for i, key in enumerate(definition.statuses):
        if key not in categories:
            errors.append(field_error(f"statuses[{i}]", "not_found"))
    if len(used) != len(definition.statuses):
        errors.append(field_error("statuses", "duplicates", detail=", ".join(sorted(
            k for k in used if definition.statuses.count(k) > 1))))  # fmt: skip
    for name in ("initial", "reopen"):
        value = getattr(definition, name)
        if value is not None and value not in used:
            errors.append(field_error(name, "not_in_workflow"))
    seen: set[str] = set()
    for i, step in enumerate(definition.transitions):
        errors += _transition_problems(f"transitions[{i}]", step, used, fields, writable)
        if step.key in seen:
            errors.append(field_error(f"transitions[{i}].key", "taken"))
        seen.add(step.key)
    errors += approval_problems(
        definition.approvals, statuses=used, user_fields=user_fields,
        steps={t.key: (t.from_, t.automatic) for t in definition.transitions},
    )  # fmt: skip
    errors += _timer_problems(definition, used)
    for status, rules in definition.fields.items():
        if status not in used:
            errors.append(field_error(f"fields.{status}", "not_in_workflow"))
        errors += [field_error(f"fields.{status}.{key}", "not_found")
                   for key in rules if key not in fields]  # fmt: skip
    if not errors:
        errors += _graph_problems(definition, categories)
    return errors


def _transition_problems(
    path: str,
    step: Transition,
    used: set[str],
    fields: Mapping[str, FieldRef],
    writable: Sequence[str],
) -> list[FieldError]:
    errors: list[FieldError] = []
    for j, key in enumerate(step.from_):
        if key not in used:
            errors.append(field_error(f"{path}.from[{j}]", "not_in_workflow"))
    if step.to not in used:
        errors.append(field_error(f"{path}.to", "not_in_workflow"))
    for j, role in enumerate(step.who.roles):
        if role not in STAFF_ROLES:
            errors.append(field_error(f"{path}.who.roles[{j}]", "invalid_choice",
                                      choices=", ".join(STAFF_ROLES)))  # fmt: skip
    if step.automatic and step.guard is None:
        errors.append(field_error(f"{path}.guard", "missing"))
    if step.guard is not None:
        try:
            conditions.parse(step.guard, dict(fields))
        except ValidationFailed as exc:
            errors += [field_error(f"{path}.guard.{e['field']}".rstrip("."), e["code"],
                                   **e["params"]) for e in exc.errors]  # fmt: skip
    for j, key in enumerate(step.require):
        if key not in fields:
            errors.append(field_error(f"{path}.require[{j}]", "not_found"))
    for key in step.set:
        if key not in writable or key == "status":
            errors.append(field_error(f"{path}.set.{key}", "not_settable"))
    for j, child in enumerate(step.children):
        for k, key in enumerate(child.copy_fields):
            if key not in writable or key in UNCOPIED:
                errors.append(field_error(f"{path}.children[{j}].copy[{k}]", "not_settable"))
    return errors


def _timer_problems(definition: Definition, used: set[str]) -> list[FieldError]:
    """Timers on statuses of the workflow, each with what its action needs: a step that leaves
    the status, an approval state to approve, reject or hand over, a user to hand it to."""
    errors: list[FieldError] = []
    steps = {t.key: t for t in definition.transitions}
    for status, timers in definition.timers.items():
        path = f"timers.{status}"
        if status not in used:
            errors.append(field_error(path, "not_in_workflow"))
            continue
        for i, timer in enumerate(timers):
            where = f"{path}[{i}]"
            if timer.action == "step":
                step = steps.get(timer.step or "")
                if step is None or status not in step.from_ or step.automatic:
                    errors.append(field_error(f"{where}.step", "not_from_status"))
            if timer.action in ("approve", "reject", "transfer") and (
                status not in definition.approvals
            ):
                errors.append(field_error(f"{where}.action", "not_approval"))
            if timer.action == "transfer" and timer.user is None:
                errors.append(field_error(f"{where}.user", "missing"))
    return errors


def _graph_problems(definition: Definition, categories: Mapping[str, str]) -> list[FieldError]:
    """Statuses no ticket can reach from the initial one, and statuses with no way out (a
    ticket would be stuck there for good) unless they end it: closed, or resolved (which a
    customer's reply reopens)."""
    starts = [definition.initial, *([definition.reopen] if definition.reopen else [])]
    reachable, frontier = set(starts), list(starts)
    while frontier:
        here = frontier.pop()
        for step in definition.transitions:
            if here in step.from_ and step.to not in reachable:
                reachable.add(step.to)
                frontier.append(step.to)
    errors: list[FieldError] = []
    for i, key in enumerate(definition.statuses):
        if key not in reachable:
            errors.append(field_error(f"statuses[{i}]", "unreachable"))
        leaves = any(key in s.from_ and s.to != key for s in definition.transitions)
        if not leaves and categories.get(key) not in ("resolved", "closed"):
            errors.append(field_error(f"statuses[{i}]", "no_way_out"))
    return errors
