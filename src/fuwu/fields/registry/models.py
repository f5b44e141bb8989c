"""Field definitions (the registry) and the counters behind auto-number fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuwu.db import Base, JSONType, UTCDateTime
from fuwu.kit.time import utcnow

ACTIVE = "active"
ARCHIVED = "archived"


class FieldDef(Base):
    """A custom field of an entity; its value lives in the entity's `custom` JSON column."""

    __tablename__ = "field_def"
    __table_args__ = (UniqueConstraint("entity", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # ticket | contact | organisation | asset
    key: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(20))
    label: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)  # {"zh_CN": …, "en": …}
    help: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    placeholder: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # per type
    default: Mapped[Any] = mapped_column(JSONType, nullable=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    unique: Mapped[bool] = mapped_column(Boolean, default=False)
    filterable: Mapped[bool] = mapped_column(Boolean, default=False)
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    set_once: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default=ACTIVE)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own API


class FieldCounter(Base):
    """The running sequence behind an auto-number field, one row per field and prefix."""

    __tablename__ = "field_counter"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
