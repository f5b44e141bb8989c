"""What the admin API and designer accept and return for fields, ticket types and forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fuwu.kit.ids import Count
from fuwu.kit.patch import Patch

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
SURFACES = ("agent_create", "agent_edit", "portal", "web_form")
Surface = Literal["agent_create", "agent_edit", "portal", "web_form"]
Labels = dict[str, str]


def _labels(value: Labels) -> Labels:
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

    _clean_labels = field_validator("label", "help", "placeholder")(_labels)

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
        lambda v: None if v is None else _labels(v)
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


class FormField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    required: bool = False


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Labels = Field(default_factory=dict)
    fields: list[str] = Field(default_factory=list, max_length=100)
    columns: int = Field(default=1, ge=1, le=3)


class LogicAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["show", "hide", "require", "read_only", "set_value", "restrict_options"]
    fields: list[str] = Field(min_length=1, max_length=50)
    clear: bool = True  # hide/show: clear the value when hidden
    value: Any = None  # set_value
    options: list[str] = Field(default_factory=list)  # restrict_options


class LogicRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)
    when: dict[str, Any]
    then: list[LogicAction] = Field(min_length=1, max_length=20)


class FormDefinition(BaseModel):
    """A ticket type's form: its fields, a layout per surface and its logic."""

    model_config = ConfigDict(extra="forbid")

    fields: list[FormField] = Field(default_factory=list, max_length=200)
    layouts: dict[Surface, list[Section]] = Field(default_factory=dict)
    logic: list[LogicRule] = Field(default_factory=list, max_length=100)


class TicketTypeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    name: Labels
    description: Labels = Field(default_factory=dict)
    public: bool = False

    _clean = field_validator("name", "description")(_labels)


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
