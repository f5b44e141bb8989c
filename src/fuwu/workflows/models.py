"""The status catalogue: one row per status any workflow may use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fuwu.db import Base, UTCDateTime
from fuwu.kit.time import utcnow

CATEGORIES = ("new", "open", "pending", "resolved", "closed")
OPEN_CATEGORIES = frozenset({"new", "open", "pending"})


class TicketStatus(Base):
    """A status (待受理, 已派工 …). Its key and category never change once created: tickets,
    history and published workflows refer to the key, the SLA clock and reports to the
    category (pending pauses the clock). Labels, colour and order may change."""

    __tablename__ = "ticket_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(String(10))
    label_zh: Mapped[str] = mapped_column(String(60))
    label_en: Mapped[str] = mapped_column(String(60))
    colour: Mapped[str] = mapped_column(String(7), default="#6b7280")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
