"""A form's definition as the designer and the API store it: fields, layouts per surface, logic."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fuwu.fields.registry.schemas import KEY_PATTERN, Labels

SURFACES = ("agent_create", "agent_edit", "portal", "web_form")
Surface = Literal["agent_create", "agent_edit", "portal", "web_form"]


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
