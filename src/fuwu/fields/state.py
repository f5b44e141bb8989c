"""A record's state keyed by the field registry's keys: what every change is computed on.

The same shape serves every entity with fields (tickets today; customers, organisations and
assets when they get forms): system fields under their registry keys (`type`, `assignee`),
custom fields under theirs, side by side, so a decider or a condition reads both alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordState(Mapping[str, Any]):
    """An immutable snapshot of one record's writable fields; `id` and `version` say which
    stored row it was read from (None for a record not written yet), `form_version` which
    version of its form validates it, `workflow` the (key, version) of the workflow that moves
    it (None: no workflow has)."""

    data: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    version: int | None = None
    form_version: int | None = None
    workflow: tuple[str, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def but(self, changes: Mapping[str, Any]) -> RecordState:
        """This state with some values replaced (or added); the same id and version."""
        return RecordState(
            {**self.data, **changes},
            id=self.id,
            version=self.version,
            form_version=self.form_version,
            workflow=self.workflow,
        )

    def diff(self, after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Key → (value here, value there) for every key whose value differs."""
        keys = dict.fromkeys([*self.data, *after])
        return {
            k: (self.data.get(k), after.get(k))
            for k in keys
            if _comparable(self.data.get(k)) != _comparable(after.get(k))
        }


def _comparable(value: Any) -> Any:
    """Lists and tuples alike, empty and absent alike: a value read back compares equal."""
    if value in ("", [], (), {}):
        return None
    if isinstance(value, tuple):
        return list(value)
    return value
