"""Condition predicates: leaf checks per second on a realistic tree over a ticket-like record.

    python -m bench.conditions_bench                  # 3 rounds of ~2 s
    python -m bench.conditions_bench --seconds 5 --rounds 5

The tree has 18 leaves of mixed kinds (choice, text, number, bool, date, datetime, multi, ref,
a regex, a variable and a field-to-field comparison) under all / any / not. It is built so
that the record makes every leaf run (each `all` child is true, each `any` finds its true child
last), which `Condition.trace` confirms before timing; a leaf check is then one leaf evaluated.
The target (ADR 0007) is 500,000 leaf checks per second. Prints the best round, with
`to_sql` compile time for the same tree.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, MetaData, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from fuwu.conditions.schema import FieldRef, Kind
from fuwu.conditions.tree import Condition, parse
from fuwu.db import JSONType, UTCDateTime
from fuwu.kit.jsonsql import json_field

TARGET = 500_000
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)

TICKET = Table(
    "ticket_bench",
    MetaData(),
    Column("created_at", UTCDateTime),
    Column("custom", JSONType),
    *(Column(name) for name in ("subject", "priority", "status", "channel", "team", "assignee")),
    *(Column(name) for name in ("tags", "is_open", "replies")),
)
FIELDS = {
    "subject": Kind.TEXT, "priority": Kind.CHOICE, "status": Kind.CHOICE, "channel": Kind.CHOICE,
    "team": Kind.REF, "assignee": Kind.REF, "tags": Kind.MULTI, "is_open": Kind.BOOL,
    "replies": Kind.NUMBER, "created_at": Kind.DATETIME,
}  # fmt: skip
CUSTOM = {
    "model": Kind.TEXT, "amount": Kind.NUMBER, "warranty_until": Kind.DATE,
    "visit_at": Kind.DATETIME, "region": Kind.CHOICE,
}  # fmt: skip

TREE: dict[str, Any] = {
    "all": [
        {"field": "priority", "op": "in", "value": ["high", "urgent"]},
        {"field": "status", "op": "ne", "value": "closed"},
        {"field": "is_open", "op": "eq", "value": True},
        {"field": "subject", "op": "contains", "value": "空调"},
        {"field": "tags", "op": "contains_any", "value": ["vip", "repeat"]},
        {"field": "created_at", "op": "within_last", "value": {"amount": 24, "unit": "hours"}},
        {"field": "replies", "op": "lt", "value": 10},
        {"field": "amount", "op": "between", "value": [100, 5000.5]},
        {"field": "warranty_until", "op": "after", "value": {"var": "today"}},
        {
            "any": [
                {"field": "channel", "op": "eq", "value": "email"},
                {"field": "region", "op": "in", "value": ["east", "south"]},
            ]
        },
        {"not": {"field": "assignee", "op": "eq", "value": {"var": "current_user"}}},
        {"field": "model", "op": "starts_with", "value": "KFR-"},
        {"field": "visit_at", "op": "after", "value": {"field": "created_at"}},
        {"field": "team", "op": "not_empty"},
        {
            "any": [
                {"field": "subject", "op": "regex", "value": r"E\d\d"},
                {"field": "model", "op": "ends_with", "value": "GW"},
            ]
        },
        {"field": "tags", "op": "contains", "value": "空调"},
    ]
}

RECORD: dict[str, Any] = {
    "subject": "空调不制冷，显示E4故障码",
    "priority": "high",
    "status": "open",
    "channel": "phone",
    "team": 3,
    "assignee": 12,
    "tags": ["vip", "空调", "上门"],
    "is_open": True,
    "replies": 4,
    "created_at": NOW - timedelta(hours=3),
    "model": "KFR-35GW",
    "amount": Decimal("1299.00"),
    "warranty_until": date(2027, 6, 30),
    "visit_at": NOW + timedelta(days=1),
    "region": "east",
}
VARIABLES = {"now": NOW, "today": date(2026, 11, 22), "current_user": 7}


def schema() -> dict[str, FieldRef]:
    found = {k: FieldRef(k, kind, column=TICKET.c[k]) for k, kind in FIELDS.items()}
    found |= {
        k: FieldRef(k, kind, column=json_field(TICKET.c.custom, k, kind))
        for k, kind in CUSTOM.items()
    }
    return found


def build() -> tuple[Condition, int]:
    """The condition and how many leaves each evaluation checks (all of them, verified)."""
    condition = parse(TREE, schema())
    trace = condition.trace(RECORD, variables=VARIABLES)
    assert condition.evaluate(RECORD, variables=VARIABLES), "the record must match"
    # Every `all` child true and every `any` true only at its last child: no short cut.
    false_leaves = {path for path, ok in trace.items() if not ok}
    assert false_leaves == {"all[9].any[0]", "all[10].not", "all[14].any[0]"}, false_leaves
    return condition, len(trace)


def measure(condition: Condition, seconds: float) -> tuple[int, float]:
    evaluate = condition.evaluate
    record, variables = RECORD, VARIABLES
    batch, done = 2000, 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(batch):
            evaluate(record, variables=variables)
        done += batch
    return done, elapsed


def sql_compile_ms() -> dict[str, float]:
    """Milliseconds to build and compile the WHERE of the tree without its regex branch."""
    tree = {"all": [n for n in TREE["all"] if "regex" not in json.dumps(n)]}
    condition = parse(tree, schema(), for_sql=True)
    found = {}
    for name, dialect in (("sqlite", sqlite.dialect()), ("postgresql", postgresql.dialect())):
        started = time.perf_counter()
        for _ in range(50):
            str(
                select(TICKET.c.subject).where(condition.to_sql(VARIABLES)).compile(dialect=dialect)
            )
        found[name] = round((time.perf_counter() - started) / 50 * 1000, 2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    condition, leaves = build()
    parse_ms = (time.perf_counter() - started) * 1000
    measure(condition, 0.2)  # warm up
    best = 0.0
    for _ in range(args.rounds):
        done, elapsed = measure(condition, args.seconds)
        best = max(best, done * leaves / elapsed)
    result = {
        "leaves_per_evaluation": leaves,
        "leaf_checks_per_s": round(best),
        "evaluations_per_s": round(best / leaves),
        "us_per_evaluation": round(leaves / best * 1e6, 2),
        "parse_and_compile_ms": round(parse_ms, 2),
        "to_sql_compile_ms": sql_compile_ms(),
        "target_leaf_checks_per_s": TARGET,
        "meets_target": best >= TARGET,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
