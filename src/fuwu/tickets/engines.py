"""The engines that decide on every ticket change, installed in the order they run.

Workflow → SLA → rules → dispatch (ARCHITECTURE.md): each sees what the ones before it decided.
The app, the CLI and the worker install this list when they make their session factories.
Only the process engine exists yet.
"""

from __future__ import annotations

from typing import Any

from fuwu.fields.deciders import INFO_KEY, Decider
from fuwu.workflows.decider import WorkflowDecider


def deciders() -> tuple[Decider, ...]:
    """The installed deciders, in order."""
    return (WorkflowDecider(),)


def session_info(installed: tuple[Decider, ...] | None = None) -> dict[str, Any]:
    """What every session of a factory carries: the deciders (the installed ones by default)."""
    return {INFO_KEY: deciders() if installed is None else installed}
