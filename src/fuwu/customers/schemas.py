"""API shapes for contacts, organisations and assets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fuwu.kit.ids import Id
from fuwu.kit.patch import Patch


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    organisation_id: Id | None = None
    vip_level: int = Field(default=0, ge=0, le=9)
    province: str = Field(default="", max_length=32)
    city: str = Field(default="", max_length=32)
    district: str = Field(default="", max_length=32)
    address: str = Field(default="", max_length=300)
    notes: str = Field(default="", max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=30)
    custom: dict[str, Any] = Field(
        default_factory=dict, max_length=100, description="Custom fields by key (admin-defined)"
    )


class ContactUpdate(Strict, Patch):
    NULLABLE = frozenset({"email", "phone", "organisation_id"})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    organisation_id: Id | None = None
    vip_level: int | None = Field(default=None, ge=0, le=9)
    province: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=32)
    district: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, max_length=5000)
    tags: list[str] | None = Field(default=None, max_length=30)
    custom: dict[str, Any] | None = Field(
        default=None, max_length=100, description="Custom fields to change, by key"
    )


class OrganisationRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class IdentityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    value: str


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    email: str | None
    phone: str | None
    organisation: OrganisationRef | None
    vip_level: int
    province: str
    city: str
    district: str
    address: str
    notes: str
    tags: list[str]
    custom: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class OrganisationCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    vip_level: int = Field(default=0, ge=0, le=9)
    phone: str | None = Field(default=None, max_length=32)
    address: str = Field(default="", max_length=300)
    notes: str = Field(default="", max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=30)
    custom: dict[str, Any] = Field(
        default_factory=dict, max_length=100, description="Custom fields by key (admin-defined)"
    )


class OrganisationUpdate(Strict, Patch):
    NULLABLE = frozenset({"phone"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    vip_level: int | None = Field(default=None, ge=0, le=9)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, max_length=5000)
    tags: list[str] | None = Field(default=None, max_length=30)
    custom: dict[str, Any] | None = Field(
        default=None, max_length=100, description="Custom fields to change, by key"
    )


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    vip_level: int
    phone: str | None
    address: str
    notes: str
    tags: list[str]
    custom: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class AssetCreate(Strict):
    serial_number: str = Field(min_length=1, max_length=64)
    product: str = Field(min_length=1, max_length=100)
    model: str = Field(default="", max_length=100)
    contact_id: Id | None = None
    organisation_id: Id | None = None
    install_date: date | None = None
    warranty_until: date | None = None
    address: str = Field(default="", max_length=300)
    custom: dict[str, Any] = Field(
        default_factory=dict, max_length=100, description="Custom fields by key (admin-defined)"
    )


class AssetUpdate(Strict, Patch):
    NULLABLE = frozenset({"contact_id", "organisation_id", "install_date", "warranty_until"})

    serial_number: str | None = Field(default=None, min_length=1, max_length=64)
    product: str | None = Field(default=None, min_length=1, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    contact_id: Id | None = None
    organisation_id: Id | None = None
    install_date: date | None = None
    warranty_until: date | None = None
    address: str | None = Field(default=None, max_length=300)
    custom: dict[str, Any] | None = Field(
        default=None, max_length=100, description="Custom fields to change, by key"
    )


class AssetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    serial_number: str
    product: str
    model: str
    contact_id: int | None
    organisation_id: int | None
    install_date: date | None
    warranty_until: date | None
    address: str
    custom: dict[str, Any]
