"""Approval states (审批节点) as the administrator writes them into a workflow.

A status of the workflow may be an approval: a ticket that enters it waits for the approvers'
decisions, and the engine takes the `approve` or `reject` step once they add up by the mode:

    "approvals": {"supervisor_review": {
        "approvers": [{"role": "supervisor"}, {"field": "account_manager"}],
        "mode": "any", "approve": "approve_close", "reject": "send_back",
        "empty": "admins", "self_approval": "skip"}}

Modes: `single` (the first approver found decides), `any` (或签: the first decision decides),
`all` (会签: everyone approves, one rejection rejects), `sequential` (依次: one after another),
`ratio` (approved once at least `ratio` % have approved; rejected once that is out of reach).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fuwu.auth.models import STAFF_ROLES
from fuwu.errors import FieldError, field_error

Mode = Literal["single", "any", "all", "sequential", "ratio"]
MAX_APPROVERS = 50  # people one approval waits for, after resolving roles and teams


class Approver(BaseModel):
    """Where approvers come from: exactly one of a user, everyone with a role, the members of
    a team, or the person a user field of the ticket names (the assignee, an account manager)."""

    model_config = ConfigDict(extra="forbid")

    user: int | None = Field(default=None, ge=1, le=2**31 - 1)
    role: str | None = None
    team: int | None = Field(default=None, ge=1, le=2**31 - 1)
    field: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_source(self) -> Approver:
        if sum(v is not None for v in (self.user, self.role, self.team, self.field)) != 1:
            raise ValueError("name exactly one of user, role, team or field")
        return self


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approvers: list[Approver] = Field(min_length=1, max_length=20)
    mode: Mode = "single"
    ratio: int = Field(default=50, ge=1, le=100)  # for mode "ratio", in percent
    approve: str  # the step the engine takes when approved
    reject: str  # … and when rejected
    # Nobody found to approve (an empty team, a blank field): the admins approve, or the
    # engine approves or rejects at once.
    empty: Literal["admins", "approve", "reject"] = "admins"
    # The person who sent the ticket into approval is among the approvers: they decide like
    # the others (allow), their part counts as approved (skip), or they are left out (deny).
    self_approval: Literal["allow", "skip", "deny"] = "skip"


def approval_problems(
    approvals: Mapping[str, Approval],
    *,
    statuses: Collection[str],
    steps: Mapping[str, tuple[Collection[str], bool]],
    user_fields: Collection[str],
) -> list[FieldError]:
    """What is wrong with the approval states: `steps` is each transition's key → (the statuses
    it leaves from, whether it is automatic)."""
    errors: list[FieldError] = []
    for status, approval in approvals.items():
        path = f"approvals.{status}"
        if status not in statuses:
            errors.append(field_error(path, "not_in_workflow"))
            continue
        for name in ("approve", "reject"):
            key = getattr(approval, name)
            found = steps.get(key)
            if found is None:
                errors.append(field_error(f"{path}.{name}", "not_found"))
            elif status not in found[0] or found[1]:
                errors.append(field_error(f"{path}.{name}", "not_from_approval"))
        for i, approver in enumerate(approval.approvers):
            where = f"{path}.approvers[{i}]"
            if approver.role is not None and approver.role not in STAFF_ROLES:
                errors.append(field_error(f"{where}.role", "invalid_choice",
                                          choices=", ".join(STAFF_ROLES)))  # fmt: skip
            if approver.field is not None and approver.field not in user_fields:
                errors.append(field_error(f"{where}.field", "not_user_field"))
    return errors


def outcome_steps(approvals: Mapping[str, Approval]) -> dict[str, frozenset[str]]:
    """Per approval status, the steps only the approval's outcome takes (not a button)."""
    return {s: frozenset((a.approve, a.reject)) for s, a in approvals.items()}
