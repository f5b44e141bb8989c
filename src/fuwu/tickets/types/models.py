"""Ticket types: the kinds of ticket (报修, 投诉 …), each with a versioned form."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fuwu.db import Base, JSONType, UTCDateTime
from fuwu.kit.time import utcnow


class TicketType(Base):
    """A kind of ticket (报修, 投诉 …); its form lives in config_version (kind 'ticket_form')."""

    __tablename__ = "ticket_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # has a public web form
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
