"""API shapes for users, teams and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from fuwu.kit.ids import Id
from fuwu.kit.patch import Patch

Role = Literal["admin", "supervisor", "agent", "engineer", "customer"]
Locale = Literal["zh_CN", "en"]
Scope = Literal["team", "all"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserCreate(Strict):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: str = Field(min_length=1, max_length=100)
    email: EmailStr | None = None
    role: Role = "agent"
    password: str | None = Field(default=None, max_length=200)
    locale: Locale | None = None
    phone: str | None = Field(default=None, max_length=32)
    district: str | None = Field(default=None, max_length=64)
    ticket_scope: Scope | None = None
    team_ids: list[Id] = Field(default_factory=list)
    contact_id: Id | None = None


class UserUpdate(Strict, Patch):
    NULLABLE = frozenset({"email", "locale", "phone", "district", "password", "current_password"})

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    email: EmailStr | None = None
    role: Role | None = None
    password: str | None = Field(default=None, max_length=200)
    current_password: str | None = Field(
        default=None,
        max_length=200,
        description="Required with `password` when users change their own password.",
    )
    locale: Locale | None = None
    phone: str | None = Field(default=None, max_length=32)
    district: str | None = Field(default=None, max_length=64)
    ticket_scope: Scope | None = None
    team_ids: list[Id] | None = None
    is_active: bool | None = None


class TeamRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    locale: str | None
    phone: str | None
    district: str | None
    ticket_scope: str
    is_active: bool
    contact_id: int | None
    teams: list[TeamRef]
    created_at: datetime
    last_login_at: datetime | None


class TeamCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    member_ids: list[Id] = Field(default_factory=list)


class TeamUpdate(Strict, Patch):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    is_active: bool | None = None
    member_ids: list[Id] | None = None


class UserRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    description: str
    is_active: bool
    members: list[UserRef]
    created_at: datetime


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["*"])


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str
