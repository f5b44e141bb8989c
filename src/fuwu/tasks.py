"""Import every module that registers job handlers, so any process can run any job."""

from __future__ import annotations

import importlib

# Each domain's tasks.py registers its handlers and event subscriptions on import; list them
# here as they land (notifications, webhooks, SLA timers …).
TASK_MODULES: tuple[str, ...] = ()


def register_all() -> None:
    for name in TASK_MODULES:
        importlib.import_module(name)
