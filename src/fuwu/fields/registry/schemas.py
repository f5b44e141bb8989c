"""What the admin API and pages accept and return for the fields of the registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fuwu.kit.ids import Count
from fuwu.kit.patch import Patch

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
Labels = dict[str, str]


def clean_labels(value: Labels) -> Labels:
    """Only zh_CN and en, trimmed to 200 characters, empty ones dropped."""
    return {k: v.strip()[:200] for k, v in value.items() if k in ("zh_CN", "en") and v.strip()}


class FieldCreate(BaseModel):
    """A new custom field."""

    model_config = ConfigDict(extra="forbid")

    entity: Literal["ticket", "contact", "organisation", "asset"] = "ticket"
    key: str = Field(pattern=KEY_PATTERN)
    type: str = Field(max_length=20)
    label: Labels
    help: Labels = Field(default_factory=dict)
    placeholder: Labels = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    default: Any = None
    required: bool = False
    unique: bool = False
    filterable: bool = False
    read_only: bool = False
    set_once: bool = False

    _clean_labels = field_validator("label", "help", "placeholder")(clean_labels)

    @field_validator("label")
    @classmethod
    def _one_label(cls, value: Labels) -> Labels:
        if not value:
            raise ValueError("a label in Chinese or English is needed")
        return value


class FieldUpdate(Patch):
    """Changes to a field; key, entity and type are fixed (retype has its own endpoint)."""

    NULLABLE = frozenset({"help", "placeholder", "default"})

    model_config = ConfigDict(extra="forbid")

    version: Count
    label: Labels | None = None
    help: Labels | None = None
    placeholder: Labels | None = None
    options: dict[str, Any] | None = None
    default: Any = None
    required: bool | None = None
    unique: bool | None = None
    filterable: bool | None = None
    read_only: bool | None = None
    set_once: bool | None = None
    position: Count | None = None

    _clean_labels = field_validator("label", "help", "placeholder")(
        lambda v: None if v is None else clean_labels(v)
    )


class FieldRetype(BaseModel):
    """Change a field's type; `dry_run` only reports the records that would not convert."""

    model_config = ConfigDict(extra="forbid")

    version: Count
    type: str
    options: dict[str, Any] = Field(default_factory=dict)
    dry_run: bool = True
    page: int = Field(default=1, ge=1, le=100_000, description="Of the dry run's failures")


class FieldRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entity: str
    key: str
    type: str
    label: Labels
    help: Labels
    placeholder: Labels
    options: dict[str, Any]
    default: Any
    required: bool
    unique: bool
    filterable: bool
    read_only: bool
    set_once: bool
    status: str
    position: int
    version: Count
    updated_at: datetime


class Usage(BaseModel):
    """One place that uses a field."""

    kind: str  # form | logic | computed | view | rule …
    key: str
    version: int | None = None
    detail: str = ""
    active: bool = True
