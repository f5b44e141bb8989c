"""Job handlers and event subscriptions, registered by higher packages at start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class JobInfo:
    """What a handler may want to know about the job it runs."""

    id: int
    kind: str
    attempt: int
    idempotency_key: str | None


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
