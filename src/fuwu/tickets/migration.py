"""Moving open tickets onto the newest version of their workflow, with a status mapping.

Tickets stay on the workflow version they started on (ADR 0016). An administrator previews
where the open ones on older versions would go (`plan`, nothing written), then applies it:
each ticket is one change through the pipeline (cause "migrated"), so its history, event and
audit say so, approval rounds follow the new status, and automatic steps of the new version
run. At most `BATCH` tickets per call; the answer says how many remain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal, require_admin
from fuwu.errors import NotFound, ValidationFailed
from fuwu.tickets import pipeline
from fuwu.tickets.models import Ticket
from fuwu.tickets.state import state_of
from fuwu.workflows import migration
from fuwu.workflows import service as workflows

BATCH = 500


@dataclass(frozen=True, slots=True)
class Migrated:
    plan: migration.Plan
    moved: int  # tickets moved by this call (0 for a preview)
    remaining: int  # open tickets still on older versions


def _older(key: str, version: int) -> ColumnElement[bool]:
    return and_(Ticket.workflow_key == key, Ticket.workflow_version != version,
                Ticket.is_open.is_(True))  # fmt: skip


def migrate(
    session: Session,
    *,
    actor: Principal,
    key: str,
    mapping: Mapping[str, str],
    apply: bool,
    where: pipeline.Where,
) -> Migrated:
    """Preview (apply False) or move the open tickets on older versions of workflow `key` to
    its newest published version."""
    require_admin(actor)
    target = workflows.current(session, key)
    if target is None:
        raise NotFound("Workflow %(key)s has no published version.", key=key)
    rows = session.execute(
        select(Ticket.workflow_version, Ticket.status, func.count())
        .where(_older(key, target.version))
        .group_by(Ticket.workflow_version, Ticket.status)
    )  # fmt: skip
    counts = {(int(v or 0), str(s)): int(n) for v, s, n in rows}
    plan = migration.plan(target, counts, mapping)
    if not apply:
        return Migrated(plan, moved=0, remaining=plan.tickets)
    if plan.problems:
        raise ValidationFailed(list(plan.problems))
    tickets = session.scalars(
        select(Ticket).where(_older(key, target.version)).order_by(Ticket.id).limit(BATCH)
    ).all()  # fmt: skip
    for ticket in tickets:
        pipeline.apply_change(
            session, actor=actor, before=state_of(ticket), where=where,
            change=pipeline.Change({"status": mapping.get(ticket.status, ticket.status)},
                                   cause="migrated", checks_version=False),
        )  # fmt: skip
    return Migrated(plan, moved=len(tickets), remaining=plan.tickets - len(tickets))
