"""API shapes for tickets, messages, attachments and the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from fuwu.kit.ids import Count, Id
from fuwu.kit.patch import Patch

Priority = Literal["low", "normal", "high", "urgent"]
Channel = Literal[
    "web",
    "portal",
    "email",
    "phone",
    "walk_in",
    "wechat",
    "api",
    "wecom",
    "dingtalk",
    "feishu",
    "iot",
    "chat",
]
# What an agent may say a ticket came in by when logging it on the new-ticket page.
AGENT_CHANNELS: tuple[str, ...] = ("web", "phone", "walk_in", "email", "wechat", "wecom", "chat")
# A status of the catalogue (fuwu.workflows.statuses); the pipeline checks that it exists and,
# under a workflow, that a step leads there.
StatusKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
# Validated by the ticket type's form (fuwu.fields): scalars, lists, and objects for
# locations and sub-table rows.
CustomValue = Any
MAX_CUSTOM_KEYS = 100


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(Strict):
    name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    organisation: str | None = Field(default=None, max_length=200)


def _check_custom(value: dict[str, CustomValue]) -> dict[str, CustomValue]:
    if len(value) > MAX_CUSTOM_KEYS:
        raise ValueError(f"at most {MAX_CUSTOM_KEYS} custom fields")
    for key in value:
        if not key.replace("_", "").isalnum() or not key.isascii() or len(key) > 64:
            raise ValueError(f"custom field key {key!r} must be letters, digits or _")
    return value


class TicketCreate(Strict):
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=50_000)
    priority: Priority = "normal"
    type: str = Field(default="general", min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    channel: Channel | None = None
    customer: CustomerIn | None = None
    customer_id: Id | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=30)
    custom: dict[str, CustomValue] = Field(default_factory=dict)

    _custom = field_validator("custom")(_check_custom)


class TicketChanges(Strict, Patch):
    """The fields a change of a ticket may set (left out: kept; null clears the nullable)."""

    NULLABLE = frozenset({"customer_id", "assignee_id", "team_id", "version"})

    subject: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=50_000)
    status: StatusKey | None = None
    priority: Priority | None = None
    type: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    customer_id: Id | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    tags: list[Tag] | None = Field(default=None, max_length=30)
    custom: dict[str, CustomValue] | None = None

    @field_validator("custom")
    @classmethod
    def _custom_ok(cls, value: dict[str, CustomValue] | None) -> dict[str, CustomValue] | None:
        return None if value is None else _check_custom(value)


class TicketUpdate(TicketChanges):
    version: Count | None = Field(
        default=None, ge=1, description="The version you read; 409 if stale."
    )


class Ref(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class AssigneeRef(BaseModel):
    """The agent a ticket is assigned to (not auth's UserRef: one name, one schema)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    display_name: str


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    subject: str
    description: str
    type: str = Field(validation_alias="type_key")
    status: str
    status_category: str
    priority: str
    channel: str
    customer: Ref | None
    organisation: Ref | None
    assignee: AssigneeRef | None
    team: Ref | None
    tags: list[str]
    custom: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int
    parent_id: int | None = Field(default=None, description="The ticket a step opened it under")


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None


class MessageCreate(Strict):
    body: str = Field(min_length=1, max_length=100_000)
    kind: Literal["reply", "note"] = "reply"


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    filename: str
    content_type: str
    size: int
    message_id: int | None
    created_at: datetime


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    ticket_id: int
    kind: str
    author_name: str
    from_customer: bool
    channel: str
    body: str
    created_at: datetime
    attachments: list[AttachmentRead]


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    actor_name: str
    changes: dict[str, Any]
    # Field → why it changed when the actor did not set it (an engine's decision, a form rule).
    reasons: dict[str, str] = Field(default_factory=dict)
    created_at: datetime

    @field_validator("reasons", mode="before")
    @classmethod
    def _no_reasons(cls, value: object) -> object:
        return value or {}


class BulkChanges(TicketChanges):
    """What to change on every ticket of a bulk update: the fields of a single update (no
    version: each ticket is changed as it is now), and tags to add or remove, which keep
    each ticket's other tags."""

    add_tags: list[Tag] | None = Field(default=None, max_length=30)
    remove_tags: list[Tag] | None = Field(default=None, max_length=30)


class TicketBulkUpdate(Strict):
    ids: list[Id] = Field(min_length=1, max_length=100, description="At most 100 tickets.")
    changes: BulkChanges


class ErrorRead(BaseModel):
    code: str
    message: str
    fields: list[dict[str, Any]] | None = None


class BulkItem(BaseModel):
    id: int
    number: str | None = None
    result: Literal["updated", "unchanged", "failed"]
    error: ErrorRead | None = None


class BulkResult(BaseModel):
    """One entry per ticket asked for, in the order asked; the counts of each result."""

    results: list[BulkItem]
    updated: int
    unchanged: int
    failed: int
