"""The entities that carry custom fields, registered by the domains that own them.

`fields` sits below tickets and customers, so it cannot import their models. Each owner
registers its table, its `custom` JSON column and its system fields (columns a condition may
test) once at import; the registry turns them into a condition schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table

from fuwu.conditions.schema import FieldRef, Kind

ENTITY_NAMES = ("ticket", "contact", "organisation", "asset")
# Form and API names of every page: the CSRF token, ids, the custom object itself.
ALWAYS_RESERVED = frozenset({"id", "csrf_token", "custom", "version", "created_at", "updated_at"})


@dataclass(frozen=True)
class SystemField:
    """A column of the entity that forms may lay out and conditions may test."""

    key: str
    kind: Kind
    label: dict[str, str]
    column: Any = None  # ColumnElement; None when it is not a plain column
    options: frozenset[str] | None = None
    writable: bool = True  # can a form set it (subject yes, number no)


@dataclass
class Entity:
    """A table with a `custom` JSON column and its system fields."""

    name: str
    table: Table
    custom: Column[Any]
    system: dict[str, SystemField] = field(default_factory=dict)
    title: str = "id"  # the column people know a record by (a ticket's number, a name)
    url: str = ""  # where a record's page is, with {id}; "" when it has none
    files: bool = True  # whether its records keep files: file field types are refused if not
    # Names the record's own forms and API already use, which a custom field's key must not
    # take (its input would clash with theirs on the page): besides the system fields.
    reserved: frozenset[str] = frozenset()

    def taken(self, key: str) -> bool:
        """Whether a custom field may not be called `key` on this entity."""
        return key in self.system or key in self.reserved or key in ALWAYS_RESERVED

    def system_refs(self) -> dict[str, FieldRef]:
        return {
            key: FieldRef(
                key=key,
                kind=f.kind,
                label=f.label.get("en", key),
                column=f.column,
                options=f.options,
            )
            for key, f in self.system.items()
        }


ENTITIES: dict[str, Entity] = {}


def register(entity: Entity) -> None:
    """Called by the owning domain at import; re-registering replaces (tests reload)."""
    ENTITIES[entity.name] = entity


def get(name: str) -> Entity | None:
    """The registered entity, or None when its domain is not loaded."""
    return ENTITIES.get(name)
