"""What a change of a ticket is made of as the pipeline takes it (`Change`, `Where`) and gives
it back (`Applied`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fuwu.config import Settings
from fuwu.errors import FieldError
from fuwu.tickets.repository import TicketRow
from fuwu.tickets.state import TicketState


@dataclass(frozen=True, slots=True)
class Change:
    """What an entry point asks for: registry keys → values (custom fields by their keys)."""

    values: Mapping[str, Any]
    cause: str = "updated"  # "created" for a new ticket; "reopened" by a customer's reply
    surface: str | None = None  # the form layout that validates custom values
    checks_version: bool = True  # False: must not fail on a concurrent change
    attachments: tuple[int, ...] = ()  # files staged for this change (`tickets.uploads`)
    errors: tuple[FieldError, ...] = ()  # found by the caller, reported with the rest
    intent: str = ""  # the named step taken (a workflow transition's key), if any


@dataclass(frozen=True, slots=True)
class Where:
    """The settings a change is made under."""

    timezone: str
    number_pattern: str = Settings.model_fields["ticket_number_pattern"].default
    ip: str | None = None
    # When it happened: now, unless the change replays history (the demo loader, an import),
    # which dates the ticket's columns and its timeline; the audit row keeps the real time.
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """A change as written: the state now, the new ticket's row (creates), whether anything
    changed at all (an edit that sets the same values writes nothing)."""

    state: TicketState
    changed: bool
    row: TicketRow | None = None
    reasons: Mapping[str, str] = field(default_factory=dict)
