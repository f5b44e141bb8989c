"""Saved inbox views as the REST API reads and writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fuwu.kit.ids import Id
from fuwu.kit.patch import Patch

Scope = Literal["personal", "team", "all"]


def _name(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class SavedViewCreate(BaseModel):
    """A new view: a name, who sees it, a condition tree (ADR 0007) and a sort."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scope: Scope = "personal"
    team_id: Id | None = None
    condition: dict[str, Any] = Field(default_factory=lambda: {"all": []})
    sort: str = Field(default="-updated_at", min_length=1, max_length=60)
    columns: list[str] | None = Field(default=None, max_length=30)

    _strip = field_validator("name", mode="before")(_name)


class SavedViewUpdate(Patch):
    """A rename, a new condition or sort, or a different audience; omitted parts stay."""

    NULLABLE = frozenset({"team_id", "columns"})

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    scope: Scope | None = None
    team_id: Id | None = None
    condition: dict[str, Any] | None = None
    sort: str | None = Field(default=None, min_length=1, max_length=60)
    columns: list[str] | None = Field(default=None, max_length=30)

    _strip = field_validator("name", mode="before")(_name)


class SavedViewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    owner_id: int
    scope: Scope
    team_id: int | None
    condition: dict[str, Any]
    sort: str
    columns: list[str] | None
    created_at: datetime
    updated_at: datetime
