"""Custom-field filter benchmark: one inbox page filtered on an indexed custom field.

Target (issue 3): ≤ 20 ms p95 over 1M tickets on SQLite and PostgreSQL. Runs the same code
as `GET /api/v1/tickets?filter=…` below the HTTP layer (filter parse → SQL → 25 rows), as a
supervisor who sees every ticket, against a dataset from `bench.dataset` (whose tickets carry
`model` and `serial` custom values). The first run registers the fields as filterable, which
builds their expression indexes; that time is reported too.

    .venv/bin/python -m bench.filter_bench --db postgresql --size 1m
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bench.dataset import SIZES, Target, exists
from fuwu import wiring
from fuwu.auth.principal import Principal
from fuwu.db import make_engine, make_sessionmakers, transaction
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.models import FieldDef
from fuwu.fields.registry.schemas import FieldCreate
from fuwu.tickets import filters as ticket_filters
from fuwu.tickets import repository

FIELDS = (
    ("model", "text", {"zh_CN": "型号", "en": "Model"}),
    ("serial", "text", {"zh_CN": "序列号", "en": "Serial"}),
    ("qty", "integer", {"zh_CN": "数量", "en": "Qty"}),
)


def _ensure_fields(writer: Any) -> float:
    """Register the dataset's custom fields as filterable; seconds spent building indexes."""
    start = time.perf_counter()
    with transaction(writer) as session:
        have = set(session.scalars(select(FieldDef.key).where(FieldDef.entity == "ticket")))
        for key, type_name, label in FIELDS:
            if key not in have:
                fields_service.create_field(
                    session, actor=Principal.system(),
                    data=FieldCreate(key=key, type=type_name, label=label, filterable=True),
                )  # fmt: skip
    return time.perf_counter() - start


def _timed(reader: Any, tree: dict[str, Any], sort: str) -> tuple[float, int]:
    actor = Principal.system()
    start = time.perf_counter()
    with transaction(reader) as session:
        where = ticket_filters.where(
            session, json.dumps(tree), user_id=None, timezone="Asia/Shanghai"
        )
        rows, _ = repository.list_tickets(
            session, actor=actor, filters=repository.TicketFilter(where=where), sort=sort,
            limit=25,
        )  # fmt: skip
    return (time.perf_counter() - start) * 1000, len(rows)


def _report(name: str, times: list[float]) -> str:
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    return f"{name}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms ({len(times)} runs)"


def main() -> None:
    wiring.register()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--size", choices=tuple(SIZES), default="100k")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    target = Target(args.db, args.size)
    if not exists(target):
        raise SystemExit(f"no dataset; build it: python -m bench.dataset --db {args.db} "
                         f"--size {args.size}")  # fmt: skip
    engine = make_engine(target.url)
    reader, writer = make_sessionmakers(engine)
    print(f"indexes built in {_ensure_fields(writer):.1f} s")
    rng = random.Random(3)
    count = SIZES[args.size]
    cases: dict[str, Callable[[], tuple[dict[str, Any], str]]] = {
        "model eq, newest first": lambda: (
            {"field": "model", "op": "eq", "value": f"KFR-{rng.randrange(300):03d}"},
            "-created_at",
        ),
        "serial eq (one ticket)": lambda: (
            {"field": "serial", "op": "eq", "value": f"SN{rng.randrange(1, count):08d}"},
            "-created_at",
        ),
        "model eq and qty ≥ 8, open only": lambda: (
            {
                "all": [
                    {"field": "model", "op": "eq", "value": f"KFR-{rng.randrange(300):03d}"},
                    {"field": "qty", "op": "gte", "value": 8},
                    {"field": "is_open", "op": "eq", "value": True},
                ]
            },
            "-created_at",
        ),
        "sorted by qty, model eq": lambda: (
            {"field": "model", "op": "eq", "value": f"KFR-{rng.randrange(300):03d}"},
            "-qty",
        ),
    }
    for name, make in cases.items():
        for _ in range(10):
            _timed(reader, *make())
        times = [_timed(reader, *make())[0] for _ in range(args.runs)]
        print(_report(f"{args.db} {args.size} {name}", times))
    engine.dispose()


if __name__ == "__main__":
    main()
