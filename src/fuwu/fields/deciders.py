"""The decider interface: how the engines take part in every change of a record.

The change pipeline (`fuwu.tickets.pipeline`) validates a change, then asks each decider in a
fixed order (workflow → SLA → rules → dispatch, ARCHITECTURE.md) what follows from it, inside
the change's transaction: a status, an assignee, values of other fields, side effects. What
they decide is written with the change and recorded in the same history row, each value with
the decider's reason. Deciders never write themselves; they only answer.

Deciders are installed explicitly when the app starts (`create_app(deciders=...)`): the session
factory carries them, so every session of the app, the CLI's and the worker's see the same
list, and a test installs its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.fields.state import RecordState

INFO_KEY = "fuwu.deciders"  # in Session.info, set by the session factory


@dataclass(frozen=True, slots=True)
class Proposal:
    """A change as the deciders see it: the state before (None on create) and after it."""

    entity: str
    cause: str  # "created", "updated", "reopened", …: what made the change
    actor_id: int | None
    actor_is_staff: bool
    before: RecordState | None
    after: RecordState
    actor: Principal | None = None  # who, with their role and teams (None: the system)
    # The values the actor asked for, as asked: what `after` holds besides is implied by them
    # or decided (an assignment that opens a new ticket, another decider's values).
    asked: Mapping[str, Any] = field(default_factory=dict)
    intent: str = ""  # the named step the actor took (a workflow transition's key), if any
    timezone: str = "Asia/Shanghai"  # for conditions on today / now


@dataclass(frozen=True, slots=True)
class Action:
    """A side effect to run after commit, as a job: `key` makes it run at most once."""

    kind: str
    payload: Mapping[str, Any]
    key: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What a decider concludes: field values to set (registry keys), why, and side effects."""

    values: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""
    actions: tuple[Action, ...] = ()


class Decider(Protocol):
    """One engine's part in every change; `name` is shown in history next to its values."""

    name: str

    def decide(self, session: Session, proposal: Proposal) -> Decision | None:
        """What follows from this change (None: nothing). Raise ValidationFailed to refuse it."""
        ...


def installed(session: Session) -> tuple[Decider, ...]:
    """The deciders of the app this session belongs to, in the order they run.

    A session whose factory was made without them is refused rather than let a change skip
    the engines (a workflow's steps, later SLA and rules) unnoticed."""
    if INFO_KEY not in session.info:
        raise RuntimeError(
            "This session was made without the engines: make its factory with "
            "make_sessionmakers(engine, info=fuwu.tickets.engines.session_info())."
        )
    return tuple(session.info[INFO_KEY])
