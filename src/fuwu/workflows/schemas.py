"""API shapes of statuses and workflows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fuwu.kit.patch import Patch

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]


class StatusRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    category: str
    label_zh: str
    label_en: str
    colour: str
    position: int
    active: bool


class StatusCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    category: str = Field(description="new, open, pending (the SLA clock pauses), resolved, closed")
    label_zh: Label
    label_en: Label
    colour: Colour = "#6b7280"


class StatusUpdate(Patch):
    model_config = ConfigDict(extra="forbid")

    category: str | None = None  # refused unless unchanged: a status keeps its category
    label_zh: Label | None = None
    label_en: Label | None = None
    colour: Colour | None = None
    position: int | None = Field(default=None, ge=0, le=100_000)
    active: bool | None = None


class WorkflowVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    version: int
    status: str
    definition: dict[str, Any]
    note: str
    created_at: datetime
    published_at: datetime | None


class WorkflowDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    definition: dict[str, Any]


class WorkflowPublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
