"""The job handlers and event subscriptions of every domain, registered explicitly so that any
process (server, worker, CLI) can run any job.

Each domain that has background work exposes a `register()` that calls
`fuwu.jobs.registry.handler` / `subscribe` for its own handlers; list it in `REGISTRATIONS` as it
lands (notifications, webhooks, SLA timers …). Nothing registers itself when imported.
"""

from __future__ import annotations

from collections.abc import Callable

from fuwu.tickets import timers as ticket_timers

REGISTRATIONS: tuple[Callable[[], None], ...] = (ticket_timers.register,)


def register_all() -> None:
    """Register every domain's handlers (idempotent: the registry ignores repeats)."""
    for register in REGISTRATIONS:
        register()
