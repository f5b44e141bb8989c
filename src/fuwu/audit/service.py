"""Write and read the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fuwu.audit.models import AuditEntry
from fuwu.db import Children, New, table
from fuwu.kit.time import utcnow


class Actor(Protocol):
    """Whoever acts: anything with a user id (None for the system) and a display name."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def name(self) -> str: ...


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as JSON-safe (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: _plain(before.get(k)) for k in keys}, {k: _plain(after.get(k)) for k in keys}


_INSERT = insert(table(AuditEntry))


def record(
    session: Session,
    *,
    actor_id: int | None,
    actor_name: str,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """Add one audit row in the caller's transaction (a plain INSERT, no ORM object)."""
    row = _row(actor_id, actor_name, action, entity, before, after, ip)
    session.execute(_INSERT, {**row, "entity_id": str(entity_id)})  # a dict: no executemany


def pending_record(
    *,
    actor_id: int | None,
    actor_name: str,
    action: str,
    entity: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> Children:
    """The audit row of an entity inserted by `db.insert_with_children`, which fills in its
    id (and any `New` value in `before`/`after`): what `record` would write."""
    row = _row(actor_id, actor_name, action, entity, before, after, ip)
    return Children(table(AuditEntry), [{**row, "entity_id": New()}])


def _row(
    actor_id: int | None,
    actor_name: str,
    action: str,
    entity: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    ip: str | None,
) -> dict[str, Any]:
    return {
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "entity": entity,
        "before": {k: _plain(v) for k, v in before.items()} if before is not None else None,
        "after": {k: _plain(v) for k, v in after.items()} if after is not None else None,
        "ip": ip,
        "created_at": utcnow(),
    }


def record_update(
    session: Session,
    *,
    actor: Actor,
    entity: str,
    entity_id: object,
    before: dict[str, Any],
    after: dict[str, Any],
    ip: str | None = None,
) -> bool:
    """Audit an update with only the keys that changed; nothing when nothing did."""
    old, new = diff(before, after)
    if new:
        record(
            session, actor_id=actor.user_id, actor_name=actor.name, action="update",
            entity=entity, entity_id=entity_id, before=old, after=new, ip=ip,
        )  # fmt: skip
    return bool(new)


def list_entries(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> Sequence[AuditEntry]:
    """Newest first, keyset-paged by id."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    return session.scalars(stmt).all()
