"""What the admin API and pages accept and return for ticket types and their form versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fuwu.fields.registry.schemas import KEY_PATTERN, Labels, clean_labels
from fuwu.kit.ids import Count
from fuwu.kit.patch import Patch


class TicketTypeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    name: Labels
    description: Labels = Field(default_factory=dict)
    public: bool = False

    _clean = field_validator("name", "description")(clean_labels)


class TicketTypeUpdate(Patch):
    NULLABLE = frozenset({"description"})

    model_config = ConfigDict(extra="forbid")

    name: Labels | None = None
    description: Labels | None = None
    active: bool | None = None
    public: bool | None = None
    position: Count | None = None


class PublishNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500, description="What changed in this version")


class FormVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: Count
    status: str
    definition: dict[str, Any]
    note: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    published_by_id: int | None = None


class TicketTypeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: Labels
    description: Labels
    active: bool
    public: bool
    position: int
    published_version: int | None = None
    has_draft: bool = False
