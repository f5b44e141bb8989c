"""The default status set, priorities and channels (until the workflow engine lands)."""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES = ("new", "open", "pending", "resolved", "closed")
OPEN_CATEGORIES = frozenset({"new", "open", "pending"})


@dataclass(frozen=True)
class Status:
    key: str
    category: str
    label_en: str
    label_zh: str
    colour: str


DEFAULT_STATUSES: dict[str, Status] = {
    s.key: s
    for s in (
        Status("new", "new", "New", "新建", "#2563eb"),
        Status("open", "open", "Open", "处理中", "#d97706"),
        Status("pending", "pending", "Pending", "挂起", "#7c3aed"),
        Status("resolved", "resolved", "Resolved", "已解决", "#059669"),
        Status("closed", "closed", "Closed", "已关闭", "#6b7280"),
    )
}

PRIORITIES: dict[str, int] = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
CHANNELS = ("web", "portal", "email", "phone", "api", "wecom", "dingtalk", "feishu", "iot", "chat")


def status(key: str) -> Status:
    return DEFAULT_STATUSES[key]
