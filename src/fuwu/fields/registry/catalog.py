"""The registry as the rest of the code reads it: an entity's field specs, built once per
version of its fields and shared, read-only, by every request until a field changes.

A version is what a cheap aggregate over the entity's rows says (their count, the newest
`updated_at`, the sum of the row versions the ORM bumps on every change), so a change made by
another process is seen on the next read, with no message between processes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fuwu.fields.registry.models import ACTIVE, FieldDef
from fuwu.fields.registry.types import FieldSpec, spec_of

ORDER = (FieldDef.position, FieldDef.id)  # the registry's display order


@dataclass(frozen=True, slots=True)
class Catalog:
    """One entity's custom fields at one version of the registry."""

    entity: str
    stamp: tuple[Any, ...]  # what changes whenever one of the entity's fields does
    specs: Mapping[str, FieldSpec]  # every field, archived ones too, in display order
    active: tuple[str, ...]  # the keys of the active fields, in display order

    def active_specs(self, readable: Collection[str] | None = None) -> list[FieldSpec]:
        """The active fields in display order (only the `readable` ones when given)."""
        return [self.specs[k] for k in self.active if readable is None or k in readable]


_CACHE: dict[tuple[Any, ...], Catalog] = {}


def catalog(session: Session, entity: str) -> Catalog:
    """The entity's fields as they are now in the session's database."""
    of_entity = FieldDef.entity == entity
    count, changed, versions = session.execute(
        select(func.count(FieldDef.id), func.max(FieldDef.updated_at), func.sum(FieldDef.version))
        .where(of_entity)
    ).one()  # fmt: skip
    stamp = (count, changed, versions)
    cache_key = (str(session.get_bind().engine.url), entity, *stamp)
    cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached
    rows = list(session.scalars(select(FieldDef).where(of_entity).order_by(*ORDER)))
    found = Catalog(
        entity=entity,
        stamp=stamp,
        specs=MappingProxyType({r.key: spec_of(r) for r in rows}),
        active=tuple(r.key for r in rows if r.status == ACTIVE),
    )
    if len(_CACHE) > 200:
        _CACHE.clear()
    _CACHE[cache_key] = found
    return found
