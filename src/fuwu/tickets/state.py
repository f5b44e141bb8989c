"""A ticket as one state keyed by the field registry's keys, and the trail format of a change.

`TicketState` is what the change pipeline computes on and what the deciders read: the system
fields under their registry keys (`type`, `customer`, `assignee`…), the custom fields under
theirs. The stored trail (history, event payload, audit) keeps the column names and nests the
custom values under `custom`, as it always has, so old history reads the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from fuwu.fields.state import RecordState

TicketState = RecordState

# Registry key → ticket column, for the fields a change may set.
SYSTEM_COLUMNS: dict[str, str] = {
    "subject": "subject",
    "description": "description",
    "type": "type_key",
    "status": "status",
    "priority": "priority",
    "channel": "channel",
    "customer": "customer_id",
    "assignee": "assignee_id",
    "team": "team_id",
    "tags": "tags",
    "parent": "parent_id",  # set when a workflow step opens the ticket under another
}
# The trail's keys, in the order they have always been recorded.
TRACKED = (
    *tuple(c for c in SYSTEM_COLUMNS.values() if c not in ("channel", "parent_id")),
    "custom",
)


class StoredTicket(Protocol):
    """What a state is read from: the ORM ticket or a list row."""

    id: int
    version: int
    form_version: int | None
    workflow_key: str | None
    workflow_version: int | None
    custom: dict[str, Any]


def state_of(ticket: StoredTicket) -> TicketState:
    """The state of a stored ticket."""
    values = {key: getattr(ticket, column) for key, column in SYSTEM_COLUMNS.items()}
    values["tags"] = list(values["tags"] or [])
    values.update(ticket.custom or {})
    return TicketState(
        values, id=ticket.id, version=ticket.version, form_version=ticket.form_version,
        workflow=pin_of(ticket.workflow_key, ticket.workflow_version),
    )  # fmt: skip


def pin_of(key: str | None, version: int | None) -> tuple[str, int] | None:
    """The (key, version) a ticket is pinned to, from its two columns."""
    return (key, version) if key is not None and version is not None else None


def custom_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """The custom values of a state, as the `custom` column stores them."""
    return {k: v for k, v in state.items() if k not in SYSTEM_COLUMNS}


def snapshot(state: Mapping[str, Any]) -> dict[str, Any]:
    """A state in the trail's format: column names, custom values nested under `custom`."""
    data = {column: state.get(key) for key, column in SYSTEM_COLUMNS.items()}
    data["tags"] = list(data["tags"] or [])
    data["custom"] = custom_of(state)
    trail = {k: data[k] for k in TRACKED}
    if data["parent_id"] is not None:  # a child ticket names its parent
        trail["parent_id"] = data["parent_id"]
    pin = getattr(state, "workflow", None)
    if pin is not None:  # the workflow version it runs on, "key@version" (a migration moves it)
        trail["workflow"] = f"{pin[0]}@{pin[1]}"
    return trail
