"""Moving open tickets from older versions of a workflow to its newest (流程版本迁移): the
plan an administrator previews — how many tickets move from which status to which — and the
mapping problems that keep it from being applied. Moving them is `fuwu.tickets.migration`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fuwu.errors import FieldError, field_error
from fuwu.workflows.compiled import Workflow


@dataclass(frozen=True, slots=True)
class Move:
    from_version: int
    from_status: str
    to_status: str
    count: int


@dataclass(frozen=True, slots=True)
class Plan:
    key: str
    version: int  # the version the tickets move to
    tickets: int
    moves: tuple[Move, ...]
    problems: tuple[FieldError, ...]  # why it cannot be applied as asked


def plan(
    target: Workflow, counts: Mapping[tuple[int, str], int], mapping: Mapping[str, str]
) -> Plan:
    """Where the open tickets on older versions (`counts`: (version, status) → tickets) go: to
    the status `mapping` names, else to the same status when the target has it."""
    statuses = set(target.definition.statuses)
    problems = [
        field_error(f"mapping.{source}", "not_in_workflow")
        for source, to in mapping.items()
        if to not in statuses
    ]
    moves: list[Move] = []
    unmapped: dict[str, int] = {}
    for (version, status), n in sorted(counts.items()):
        to = mapping.get(status, status)
        if to in statuses:
            moves.append(Move(version, status, to, n))
        elif status not in mapping:
            unmapped[status] = unmapped.get(status, 0) + n
    problems += [
        field_error(f"mapping.{status}", "unmapped", count=n) for status, n in unmapped.items()
    ]
    return Plan(key=target.key, version=target.version, tickets=sum(counts.values()),
                moves=tuple(moves), problems=tuple(problems))  # fmt: skip
