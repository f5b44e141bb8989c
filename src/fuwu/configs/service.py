"""Drafts, publishing and history of versioned configuration (ARCHITECTURE foundation 3).

Editing always happens on the one draft of a (kind, key); publishing turns the draft into the
current version and archives the previous one. Published and archived versions are immutable:
records that ran on them (a ticket and its form version) must be readable forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.orm import Session

from fuwu.configs.models import ARCHIVED, DRAFT, PUBLISHED, ConfigVersion
from fuwu.errors import Conflict, NotFound
from fuwu.kit.time import utcnow


def current(session: Session, kind: str, key: str) -> ConfigVersion | None:
    """The published version, if there is one."""
    return session.scalars(
        select(ConfigVersion).where(
            ConfigVersion.kind == kind, ConfigVersion.key == key, ConfigVersion.status == PUBLISHED
        )
    ).first()


def draft(session: Session, kind: str, key: str) -> ConfigVersion | None:
    """The draft being edited, if there is one."""
    return session.scalars(
        select(ConfigVersion).where(
            ConfigVersion.kind == kind, ConfigVersion.key == key, ConfigVersion.status == DRAFT
        )
    ).first()


def get(session: Session, kind: str, key: str, version: int) -> ConfigVersion:
    """One version by number; NotFound when it does not exist."""
    found = session.scalars(
        select(ConfigVersion).where(
            ConfigVersion.kind == kind, ConfigVersion.key == key, ConfigVersion.version == version
        )
    ).first()
    if found is None:
        raise NotFound("Version %(version)s does not exist.", version=version)
    return found


def history(session: Session, kind: str, key: str) -> list[ConfigVersion]:
    """Every version, newest first."""
    return list(
        session.scalars(
            select(ConfigVersion)
            .where(ConfigVersion.kind == kind, ConfigVersion.key == key)
            .order_by(ConfigVersion.version.desc())
        )
    )


def save_draft(
    session: Session,
    *,
    actor_id: int | None,
    kind: str,
    key: str,
    definition: dict[str, Any],
    schema_version: int = 1,
    note: str = "",
) -> ConfigVersion:
    """Create or replace the draft; the published version is untouched."""
    row = draft(session, kind, key)
    if row is None:
        latest = session.scalar(
            select(func.max(ConfigVersion.version)).where(
                ConfigVersion.kind == kind, ConfigVersion.key == key
            )
        )
        row = ConfigVersion(
            kind=kind,
            key=key,
            version=(latest or 0) + 1,
            status=DRAFT,
            created_by_id=actor_id,
            definition=definition,
        )
        session.add(row)
    row.definition = definition
    row.schema_version = schema_version
    row.note = note[:500]
    row.updated_at = utcnow()
    session.flush()
    return row


def discard_draft(session: Session, kind: str, key: str) -> None:
    """Throw the draft away."""
    row = draft(session, kind, key)
    if row is None:
        raise NotFound("There is no draft to discard.")
    session.delete(row)
    session.flush()


def publish(
    session: Session, *, actor_id: int | None, kind: str, key: str, note: str = ""
) -> ConfigVersion:
    """Make the draft the current version (the caller has validated it), with a note that
    says what changed."""
    row = draft(session, kind, key)
    if row is None:
        raise Conflict("There is no draft to publish.")
    session.execute(
        update(ConfigVersion)
        .where(
            ConfigVersion.kind == kind,
            ConfigVersion.key == key,
            ConfigVersion.status == PUBLISHED,
        )
        .values(status=ARCHIVED)
        .execution_options(synchronize_session="fetch")
    )
    row.status = PUBLISHED
    row.note = note.strip()[:500]
    row.published_by_id = actor_id
    row.published_at = utcnow()
    session.flush()
    return row


@dataclass(frozen=True)
class Change:
    """One difference between two definitions, by JSON path."""

    path: str
    before: Any
    after: Any

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"


def diff(before: Any, after: Any, path: str = "") -> list[Change]:
    """The differences between two JSON documents; lists of keyed objects match by key."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for name in list(before) + [k for k in after if k not in before]:
            sub = f"{path}.{name}" if path else str(name)
            changes += diff(before.get(name), after.get(name), sub)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        if _keyed(before) and _keyed(after):
            return diff(_by_key(before), _by_key(after), path)
        if before != after:
            return [Change(path, before, after)]
        return []
    if before != after:
        return [Change(path, before, after)]
    return []


def _keyed(items: list[Any]) -> bool:
    return all(isinstance(i, dict) and isinstance(i.get("key"), str) for i in items)


def _by_key(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {i["key"]: i for i in items}


@event.listens_for(ConfigVersion, "before_update")
def _refuse_changing_published(_mapper: Any, _conn: Any, target: ConfigVersion) -> None:
    """A published or archived definition is history: refuse any edit below the service."""
    state = inspect(target)
    old_status = state.attrs.status.history.deleted
    was = old_status[0] if old_status else target.status
    if was != DRAFT and state.attrs.definition.history.has_changes():
        raise Conflict("A published version cannot be changed; edit the draft instead.")
