"""Import every module that registers job handlers, so any process can run any job."""

from __future__ import annotations

import importlib

TASK_MODULES: tuple[str, ...] = ("fuwu.tickets.tasks",)


def register_all() -> None:
    for name in TASK_MODULES:
        importlib.import_module(name)
