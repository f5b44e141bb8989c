"""Form engine benchmark: validating a 30-field ticket against its compiled form.

Target (issue 3): ≤ 50 µs per validation. Pure CPU: no database; the form is compiled once,
as the server does for each published (type, version).

    .venv/bin/python -m bench.forms_bench
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table

from fuwu.conditions.schema import Kind
from fuwu.fields.forms.compile import compile_form
from fuwu.fields.forms.validation import validate
from fuwu.fields.registry.entities import Entity, SystemField
from fuwu.fields.registry.types import FieldSpec

TABLE = Table(
    "bench_ticket",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("priority", String),
    Column("custom", JSON),
)
ENTITY = Entity(
    name="bench_ticket",
    table=TABLE,
    custom=TABLE.c.custom,
    system={"priority": SystemField("priority", Kind.CHOICE, {"en": "Priority"}, TABLE.c.priority)},
)
CHOICES = {"choices": [{"key": k, "label": {"en": k}} for k in ("a", "b", "c", "d")]}


def _specs() -> dict[str, FieldSpec]:
    """30 fields of the everyday kinds: text, numbers, money, dates, selects, phone, flags."""
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("text", {"max_length": 100}), ("integer", {"min": 0, "max": 1000}),
        ("money", {"min": 0}), ("date", {}), ("select", CHOICES), ("boolean", {}),
        ("multi_select", CHOICES), ("textarea", {}), ("decimal", {"precision": 3}),
        ("email", {}),
    ]  # fmt: skip
    specs = {}
    for i in range(30):
        type_name, options = kinds[i % len(kinds)]
        if type_name == "email" and i > 10:
            type_name, options = "text", {"max_length": 40}
        specs[f"f{i:02d}"] = FieldSpec(key=f"f{i:02d}", type=type_name, label={"en": f"F{i}"},
                                       options=options)  # fmt: skip
    return specs


SAMPLES: dict[str, Any] = {
    "text": "KFR-35GW/BP3DN8Y", "integer": "12", "money": "1999.50", "date": "2026-11-22",
    "select": "b", "boolean": True, "multi_select": ["a", "c"],
    "textarea": "室外机异响，开机三分钟后", "decimal": "3.142", "email": "wang.fang@example.cn",
}  # fmt: skip


def main(rounds: int = 20000) -> None:
    specs = _specs()
    keys = list(specs)
    definition = {
        "fields": [{"key": k, "required": i < 5} for i, k in enumerate(keys)],
        "layouts": {"agent_create": [{"fields": keys}]},
        "logic": [
            {"when": {"field": "f04", "op": "eq", "value": "a"},
             "then": [{"action": "require", "fields": ["f14"]}]},
            {"when": {"field": "priority", "op": "eq", "value": "urgent"},
             "then": [{"action": "hide", "fields": ["f17"]}]},
        ],
    }  # fmt: skip
    form = compile_form(type_key="bench", version=1, definition=definition, specs=specs,
                        entity=ENTITY, timezone="Asia/Shanghai")  # fmt: skip
    values = {k: SAMPLES[s.type] for k, s in specs.items()}
    system = {"priority": "normal"}
    variables = {"current_user": 1}
    for _ in range(500):
        validate(form, "agent_create", values, system=system, variables=variables, creating=True)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            validate(form, "agent_create", values, system=system, variables=variables,
                     creating=True)  # fmt: skip
        times.append((time.perf_counter() - start) / rounds * 1e6)
    print(f"validate 30 fields: median {statistics.median(times):.1f} µs "
          f"(best {min(times):.1f}, runs {', '.join(f'{t:.1f}' for t in times)})")  # fmt: skip


if __name__ == "__main__":
    main()
