"""Change many tickets at once, as an agent does from the inbox (Zendesk's bulk update,
Zammad's bulk action).

Each ticket goes through the change pipeline on its own, in a savepoint: one that cannot take
the change (a required field its form lacks, a ticket the agent may not see, a rule that
refuses) is reported with its reason and the others are still changed. Every changed ticket
gets its own history, event and audit row, as if it had been edited alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal, require_staff
from fuwu.errors import DomainError
from fuwu.tickets import pipeline
from fuwu.tickets.schemas import BulkChanges
from fuwu.tickets.service import change_values, get_ticket
from fuwu.tickets.state import state_of
from fuwu.workflows import statuses

Result = Literal["updated", "unchanged", "failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one ticket: "updated", "unchanged" (it already had the values) or
    "failed" with the error a single update would have given."""

    ticket_id: int
    number: str | None
    result: Result
    error: DomainError | None = None


def bulk_update(
    session: Session,
    *,
    actor: Principal,
    ticket_ids: Sequence[int],
    changes: BulkChanges,
    timezone: str,
    ip: str | None = None,
) -> list[Outcome]:
    """Apply `changes` to each ticket (duplicates once, in the order given)."""
    require_staff(actor)
    asked = changes.model_dump(exclude_unset=True)
    add, remove = asked.pop("add_tags", None) or [], asked.pop("remove_tags", None) or []
    if changes.status is not None:  # refused for all, before any ticket is looked at
        statuses.require_known(session, changes.status, field="changes.status")
    values = change_values(asked)
    outcomes: list[Outcome] = []
    for ticket_id in dict.fromkeys(ticket_ids):
        number = None
        try:
            with session.begin_nested():
                ticket = get_ticket(session, actor=actor, ticket_id=ticket_id, people=False)
                number = ticket.number
                before = state_of(ticket)
                applied = pipeline.apply_change(
                    session, actor=actor, before=before,
                    change=pipeline.Change(_with_tags(values, before.get("tags"), add, remove)),
                    where=pipeline.Where(timezone=timezone, ip=ip),
                )  # fmt: skip
        except DomainError as exc:
            outcomes.append(Outcome(ticket_id, number, "failed", exc))
            continue
        outcomes.append(Outcome(ticket_id, number, "updated" if applied.changed else "unchanged"))
    session.expire_all()  # the tickets were written by plain UPDATEs
    return outcomes


def _with_tags(
    values: dict[str, Any], tags: list[str] | None, add: list[str], remove: list[str]
) -> dict[str, Any]:
    """The values with this ticket's tags after adding and removing some."""
    if not add and not remove:
        return values
    base = values.get("tags", tags) or []
    kept = [t for t in base if t not in remove]
    return {**values, "tags": list(dict.fromkeys([*kept, *(t for t in add if t not in remove)]))}
