"""Edits the admin pages make to a workflow's draft (the transition table, the statuses it
uses), and where the graph view draws each status.

Each edit starts from the draft, or from the published version when there is none, and saves
a whole new draft through `service.save_draft`, which checks its shape; everything else is
checked when publishing, as for the API.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.configs.models import ConfigVersion
from fuwu.errors import ValidationFailed
from fuwu.workflows import service
from fuwu.workflows.definition import Definition

COLUMN, ROW = 210, 120  # the graph's grid, in pixels


def draft_of(session: Session, key: str) -> dict[str, Any]:
    """The definition an edit starts from (a copy: the row's JSON is not touched)."""
    return copy.deepcopy(service.get_draft_or_current(session, key).definition)


def create(
    session: Session, *, actor: Principal, key: str, name_zh: str, name_en: str,
    types: Sequence[str], initial: str,
) -> ConfigVersion:  # fmt: skip
    """A new workflow: one status to start from, no steps yet."""
    if key in service.keys(session):
        raise ValidationFailed.single("key", "taken")
    raw = {"name": {"zh_CN": name_zh, "en": name_en or name_zh}, "types": list(types),
           "statuses": [initial], "initial": initial, "transitions": []}  # fmt: skip
    return service.save_draft(session, actor=actor, key=key, raw=raw, note="")


def set_statuses(
    session: Session, *, actor: Principal, key: str, statuses: Sequence[str], initial: str,
    reopen: str | None,
) -> ConfigVersion:  # fmt: skip
    raw = draft_of(session, key)
    raw.update(statuses=list(statuses), initial=initial)
    raw.pop("reopen", None)
    if reopen:
        raw["reopen"] = reopen
    return service.save_draft(session, actor=actor, key=key, raw=raw)


def put_transition(
    session: Session, *, actor: Principal, key: str, transition: dict[str, Any]
) -> ConfigVersion:
    """Add a step, or replace the one with the same key (keeping its place in the order)."""
    raw = draft_of(session, key)
    steps = raw.setdefault("transitions", [])
    for i, step in enumerate(steps):
        if step.get("key") == transition["key"]:
            kept = {k: v for k, v in step.items() if k in ("set", "children")}
            steps[i] = {**kept, **transition}
            break
    else:
        steps.append(transition)
    return service.save_draft(session, actor=actor, key=key, raw=raw)


def delete_transition(session: Session, *, actor: Principal, key: str, step: str) -> ConfigVersion:
    raw = draft_of(session, key)
    raw["transitions"] = [t for t in raw.get("transitions", []) if t.get("key") != step]
    return service.save_draft(session, actor=actor, key=key, raw=raw)


def replace(session: Session, *, actor: Principal, key: str, raw: object) -> ConfigVersion:
    """The whole definition as JSON (approvals, timers, children: the advanced part)."""
    return service.save_draft(session, actor=actor, key=key, raw=raw)


def _forward_steps(definition: Definition) -> list[tuple[str, str]]:
    """The (from, to) pairs of steps that do not lead back to a status on the way to them (a
    depth-first walk from the initial status, in the workflow's order)."""
    out: dict[str, list[str]] = {}
    for step in definition.transitions:
        for source in step.from_:
            out.setdefault(source, []).append(step.to)
    forward: list[tuple[str, str]] = []
    on_path: set[str] = set()
    seen: set[str] = set()

    def walk(status: str) -> None:
        seen.add(status)
        on_path.add(status)
        for target in out.get(status, []):
            if target in on_path:
                continue  # a step back (验收不通过 → 处理中)
            forward.append((status, target))
            if target not in seen:
                walk(target)
        on_path.discard(status)

    walk(definition.initial)
    return forward


def layout(definition: Definition) -> dict[str, tuple[int, int]]:
    """Where the graph draws each status: columns by the longest way forward from the initial
    one (steps back, such as 验收不通过, do not push a status right; statuses no step reaches
    in a last column), rows in the workflow's order."""
    forward = _forward_steps(definition)
    depth = {definition.initial: 0}
    for _ in range(len(definition.statuses)):  # the longest way over steps that go forward
        for source, target in forward:
            if source in depth:
                depth[target] = max(depth.get(target, 0), depth[source] + 1)
    last = max(depth.values(), default=0) + 1
    rows: dict[int, int] = {}
    placed: dict[str, tuple[int, int]] = {}
    for status in definition.statuses:
        column = depth.get(status, last)
        row = rows.get(column, 0)
        rows[column] = row + 1
        placed[status] = (40 + column * COLUMN, 30 + row * ROW)
    return placed
