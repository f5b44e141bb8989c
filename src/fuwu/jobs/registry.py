"""Job handlers and event subscriptions, registered by higher packages at start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

EffectRunner = Callable[[str, Callable[[str], None]], bool]


def _no_ledger(name: str, effect: Callable[[str], None]) -> bool:
    effect(name)
    return True


@dataclass(frozen=True)
class JobInfo:
    """What a handler may want to know about the job it runs."""

    id: int
    kind: str
    attempt: int
    idempotency_key: str | None
    ledger: EffectRunner = field(default=_no_ledger, repr=False)

    def effect_key(self, name: str) -> str:
        """The key of one side effect of this job, the same on every attempt."""
        return f"{self.idempotency_key or f'job:{self.id}'}:{name}"[:250]

    def once(self, name: str, effect: Callable[[str], None]) -> bool:
        """Run a side effect outside the database (send an email, call a webhook) unless an
        earlier attempt of this job already did; False when it was skipped.

        Handlers run at least once: a job whose commit failed after its email went out is
        run again. The effect is recorded by `effect_key(name)` in a transaction of its own
        right after it succeeded, so the retry skips it. `effect` gets that key to pass on
        where the other side deduplicates too (Message-ID, an Idempotency-Key header): the
        record can still be lost if the process dies between the effect and the record.
        """
        return self.ledger(self.effect_key(name), effect)


Handler = Callable[[Session, dict[str, Any], JobInfo], None]

_handlers: dict[str, Handler] = {}
_subscribers: dict[str, list[str]] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of a job kind."""

    def register(func: Handler) -> Handler:
        _handlers[kind] = func
        return func

    return register


def subscribe(event_name: str, kind: str) -> None:
    """Enqueue a job of `kind` for every event named `event_name`."""
    kinds = _subscribers.setdefault(event_name, [])
    if kind not in kinds:
        kinds.append(kind)


def get_handler(kind: str) -> Handler | None:
    return _handlers.get(kind)


def subscribers(event_name: str) -> list[str]:
    return list(_subscribers.get(event_name, ()))


def unregister(kind: str) -> None:
    """Forget a handler and its subscriptions (tests)."""
    _handlers.pop(kind, None)
    for kinds in _subscribers.values():
        if kind in kinds:
            kinds.remove(kind)
