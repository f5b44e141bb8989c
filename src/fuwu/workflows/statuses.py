"""The status catalogue as the rest of the code reads and changes it.

Lists, filters and pages read `catalogue(session)`: built once per version of the table (a
cheap aggregate says which) and shared until a status changes, in any process. The writer needs
only a status's category, which never changes once the status exists, so `category_of` keeps
each one for the life of the process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal, require_admin
from fuwu.errors import Conflict, FieldError, NotFound, ValidationFailed, field_error
from fuwu.kit.time import utcnow
from fuwu.workflows.models import CATEGORIES, TicketStatus

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class Status:
    key: str
    category: str
    label_zh: str
    label_en: str
    colour: str
    position: int
    active: bool

    def label(self, locale: str) -> str:
        return self.label_zh if locale == "zh_CN" else self.label_en


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every status, in display order."""

    statuses: Mapping[str, Status]

    def get(self, key: str) -> Status | None:
        return self.statuses.get(key)

    def label(self, key: str, locale: str) -> str:
        found = self.statuses.get(key)
        return key if found is None else found.label(locale)

    def active(self) -> list[Status]:
        return [s for s in self.statuses.values() if s.active]


_CATALOGUES: dict[tuple[Any, ...], Catalogue] = {}
_CATEGORIES: dict[tuple[str, str], str] = {}
ORDER = (TicketStatus.position, TicketStatus.id)


def _of(row: TicketStatus) -> Status:
    return Status(
        key=row.key, category=row.category, label_zh=row.label_zh, label_en=row.label_en,
        colour=row.colour, position=row.position, active=row.active,
    )  # fmt: skip


def catalogue(session: Session) -> Catalogue:
    """The statuses as they are now in the session's database."""
    stamp = tuple(
        session.execute(
            select(func.count(TicketStatus.id), func.max(TicketStatus.updated_at))
        ).one()
    )
    cache_key = (str(session.get_bind().engine.url), *stamp)
    found = _CATALOGUES.get(cache_key)
    if found is None:
        rows = session.scalars(select(TicketStatus).order_by(*ORDER))
        found = Catalogue(MappingProxyType({r.key: _of(r) for r in rows}))
        if len(_CATALOGUES) > 50:
            _CATALOGUES.clear()
        _CATALOGUES[cache_key] = found
    return found


def category_of(session: Session, key: str) -> str | None:
    """The category of a status (None: there is no such status). A status's category never
    changes, so it is read once per process and database."""
    cache_key = (str(session.get_bind().engine.url), key)
    found = _CATEGORIES.get(cache_key)
    if found is None:
        found = session.scalar(select(TicketStatus.category).where(TicketStatus.key == key))
        if found is None:
            return None
        _CATEGORIES[cache_key] = found
    return found


def get_status(session: Session, key: str) -> TicketStatus:
    row = session.scalar(select(TicketStatus).where(TicketStatus.key == key))
    if row is None:
        raise NotFound("Status %(key)s does not exist.", key=key)
    return row


def create_status(session: Session, *, actor: Principal, data: Mapping[str, Any]) -> TicketStatus:
    """A new status; its key and category are fixed from now on."""
    require_admin(actor)
    key, category = str(data.get("key") or ""), str(data.get("category") or "")
    errors = _label_errors(data)
    if not KEY.match(key):
        errors.append(field_error("key", "invalid"))
    elif session.scalar(select(TicketStatus.id).where(TicketStatus.key == key)) is not None:
        errors.append(field_error("key", "taken"))
    if category not in CATEGORIES:
        errors.append(field_error("category", "invalid_choice", choices=", ".join(CATEGORIES)))
    if errors:
        raise ValidationFailed(errors)
    position = session.scalar(select(func.coalesce(func.max(TicketStatus.position), 0)))
    row = TicketStatus(
        key=key, category=category, label_zh=str(data["label_zh"]).strip(),
        label_en=str(data["label_en"]).strip(), colour=str(data.get("colour") or "#6b7280"),
        position=int(position or 0) + 10, active=True,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def update_status(
    session: Session, *, actor: Principal, key: str, data: Mapping[str, Any]
) -> TicketStatus:
    """Change a status's labels, colour, order or whether new workflows may use it."""
    require_admin(actor)
    row = get_status(session, key)
    if "category" in data and data["category"] != row.category:
        raise Conflict(
            "A status keeps its category: tickets and reports count on it. "
            "Make a new status instead."
        )
    merged = {"label_zh": row.label_zh, "label_en": row.label_en, "colour": row.colour, **data}
    errors = _label_errors(merged)
    if errors:
        raise ValidationFailed(errors)
    row.label_zh, row.label_en = str(merged["label_zh"]).strip(), str(merged["label_en"]).strip()
    row.colour = str(merged["colour"])
    if "position" in data:
        row.position = int(data["position"])
    if "active" in data:
        row.active = bool(data["active"])
    row.updated_at = utcnow()
    session.flush()
    return row


def _label_errors(data: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    for name in ("label_zh", "label_en"):
        text = str(data.get(name) or "").strip()
        if not text:
            errors.append(field_error(name, "empty"))
        elif len(text) > 60:
            errors.append(field_error(name, "too_long", max=60))
    colour = data.get("colour")
    if colour and not COLOUR.match(str(colour)):
        errors.append(field_error("colour", "invalid_colour"))
    return errors


def forget_cached() -> None:
    """Drop what this process remembers of statuses. Only for a database emptied under it
    (the tests): in use, statuses are never deleted and their categories never change."""
    _CATALOGUES.clear()
    _CATEGORIES.clear()


def require_known(session: Session, key: str, *, field: str = "status") -> None:
    """422 naming `field` (with the statuses there are) unless `key` is a status."""
    if category_of(session, key) is None:
        known = ", ".join(catalogue(session).statuses)
        raise ValidationFailed.single(field, "invalid_choice", choices=known)
