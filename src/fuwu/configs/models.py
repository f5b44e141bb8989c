"""Versioned configuration: forms now, workflows, rules, SLA policies and reports later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuwu.db import Base, JSONType, UTCDateTime
from fuwu.kit.time import utcnow

DRAFT = "draft"
PUBLISHED = "published"
ARCHIVED = "archived"


class ConfigVersion(Base):
    """One version of one piece of configuration; published versions never change."""

    __tablename__ = "config_version"
    __table_args__ = (
        UniqueConstraint("kind", "key", "version"),
        Index("ix_config_version_status", "kind", "key", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=DRAFT)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
