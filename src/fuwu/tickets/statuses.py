"""Priorities and channels; statuses live in the process engine's catalogue
(`fuwu.workflows.statuses`), which every workflow, list and filter shares."""

from __future__ import annotations

from fuwu.workflows.models import CATEGORIES, OPEN_CATEGORIES

__all__ = ["CATEGORIES", "CHANNELS", "OPEN_CATEGORIES", "PRIORITIES"]

PRIORITIES: dict[str, int] = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
CHANNELS = ("web", "portal", "email", "phone", "api", "wecom", "dingtalk", "feishu", "iot", "chat")
