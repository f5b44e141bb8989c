"""Benchmark datasets: 100k or 1M tickets with ~2 messages each, on SQLite or PostgreSQL.

The schema comes from the migrations; rows go in with the drivers' fastest bulk paths
(executemany on SQLite, COPY on PostgreSQL), with the secondary indexes of the big tables
dropped during the load and rebuilt afterwards.

    python -m bench.dataset --db sqlite --size 100k
    python -m bench.dataset --db postgresql --size 1m

Distribution: created_at over two years (more on weekdays and in office hours); a ticket is
open with a probability that decays with age (≈11 % open overall, most of them recent);
20 teams of 10 agents; 90 % of tickets routed to a team, 85 % of those assigned within it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Index, create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, DropIndex

from fuwu import migrate
from fuwu.db import Base

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
TEAMS = 20
AGENTS_PER_TEAM = 10
SEED = 7
STATUSES_OPEN = (("new", 25), ("open", 55), ("pending", 20))
STATUSES_DONE = (("resolved", 15), ("closed", 85))
PRIORITIES = (("low", 0, 15), ("normal", 1, 60), ("high", 2, 20), ("urgent", 3, 5))
CHANNELS = ("phone", "web", "email", "wecom", "portal", "api", "chat")
SUBJECTS = (
    "空调不制冷",
    "空调显示E4故障码",
    "洗衣机漏水",
    "热水器打不着火",
    "冰箱冷藏室不制冷",
    "预约安装",
    "空调移机",
    "投诉上门超时",
    "咨询保修期",
    "外机噪音大",
)
BODIES = (
    "您好，已收到您的报修，工程师会尽快与您联系。",
    "师傅大概几点能到？我下午三点以后在家。",
    "已核实保修，保内免费维修。",
    "已上门处理完成，试机正常。",
    "配件已申请，等待库房出库。",
)
SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Target:
    """Where a dataset lives: kind ('sqlite' or 'postgresql'), size and URL."""

    kind: str
    size: str

    @property
    def name(self) -> str:
        return f"fuwu_bench_{self.size}"

    @property
    def url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.data_dir / 'fuwu.sqlite3'}"
        return make_url(PG_SERVER).set(database=self.name).render_as_string(hide_password=False)

    @property
    def data_dir(self) -> Path:
        return DATA_DIR / f"{self.kind}-{self.size}"

    @property
    def marker(self) -> Path:
        return self.data_dir / "dataset.json"


def exists(target: Target) -> bool:
    """True when a complete dataset of this kind and size was built before."""
    if not target.marker.exists():
        return False
    if target.kind == "sqlite":
        return (target.data_dir / "fuwu.sqlite3").exists()
    engine = _pg_admin()
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.name}
        ).first()
    engine.dispose()
    return found is not None


def _pg_admin() -> Any:
    url = make_url(PG_SERVER).set(database="postgres")
    return create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")


def _fresh_database(target: Target) -> None:
    target.data_dir.mkdir(parents=True, exist_ok=True)
    target.marker.unlink(missing_ok=True)
    if target.kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (target.data_dir / f"fuwu.sqlite3{suffix}").unlink(missing_ok=True)
        return
    assert target.name.startswith("fuwu_bench_")  # only ever drop our own databases
    engine = _pg_admin()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.name}"'))
    engine.dispose()


def _ts(value: datetime, kind: str) -> Any:
    return value.strftime(SQLITE_TS) if kind == "sqlite" else value


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _people(kind: str, now: datetime) -> dict[str, list[tuple[Any, ...]]]:
    """Teams, users (admin, agents, one team-scoped bench agent), memberships and contacts."""
    created = _ts(now - timedelta(days=800), kind)
    teams = [(i, f"Team {i:02d}", "", True, created) for i in range(1, TEAMS + 1)]
    users: list[tuple[Any, ...]] = [
        (1, "admin", "admin@bench.example.com", "Bench Admin", "admin", "all", True, created)
    ]
    members = []
    uid = 1
    for team_id in range(1, TEAMS + 1):
        for n in range(AGENTS_PER_TEAM):
            uid += 1
            name = f"agent{team_id:02d}{n}"
            users.append(
                (uid, name, f"{name}@bench.example.com", name, "agent", "team", True, created)
            )
            members.append((team_id, uid))
    return {"team": teams, "user": users, "team_member": members}


def _ticket_rows(
    target: Target, count: int, now: datetime
) -> tuple[list[tuple[Any, ...]], list[datetime], dict[str, int]]:
    rng = random.Random(SEED)
    span = 730 * 86400
    stamps = sorted(now - timedelta(seconds=_created_offset(rng, span)) for _ in range(count))
    rows = []
    counters: dict[str, int] = {}
    kind = target.kind
    contacts = max(count // 10, 100)
    for i, created in enumerate(stamps, start=1):
        age_days = (now - created).total_seconds() / 86400
        is_open = rng.random() < 0.08 + 0.8 * math.exp(-age_days / 30)
        status = _weighted(rng, STATUSES_OPEN if is_open else STATUSES_DONE)
        team_id = rng.randint(1, TEAMS) if rng.random() < 0.9 else None
        assignee = None
        if team_id is not None and (status != "new") and rng.random() < 0.95:
            assignee = 1 + (team_id - 1) * AGENTS_PER_TEAM + rng.randint(1, AGENTS_PER_TEAM)
        if status == "new":
            assignee = None
        prio, rank, _w = rng.choices(PRIORITIES, weights=[p[2] for p in PRIORITIES])[0]
        updated = min(created + timedelta(minutes=rng.uniform(5, 4000)), now)
        responded = created + (updated - created) / 3 if status != "new" else None
        resolved = updated if status in ("resolved", "closed") else None
        day = created.astimezone(SHANGHAI).strftime("%Y%m%d")
        counters[day] = counters.get(day, 0) + 1
        number = f"SR{day}-{counters[day]:05d}"
        rows.append(
            (
                i,
                number,
                f"{rng.choice(SUBJECTS)} #{i}",
                "bench ticket",
                "repair",
                status,
                status,
                is_open,
                prio,
                rank,
                rng.choice(CHANNELS),
                rng.randint(1, contacts),
                None,
                assignee,
                team_id,
                None,
                _custom(rng, i),
                "[]",
                _ts(created, kind),
                _ts(updated, kind),
                _ts(responded, kind) if responded else None,
                _ts(resolved, kind) if resolved else None,
                _ts(updated, kind) if status == "closed" else None,
                1,
            )
        )
    return rows, stamps, {f"SR{day}-#": n for day, n in counters.items()}


def _custom(rng: random.Random, i: int) -> str:
    """Custom values for the filter benchmark: 300 models, a serial per ticket, a quantity."""
    return json.dumps(
        {
            "model": f"KFR-{rng.randrange(300):03d}",
            "serial": f"SN{i:08d}",
            "qty": rng.randint(1, 10),
        }
    )


def _created_offset(rng: random.Random, span: int) -> float:
    """Seconds before now: weekdays and office hours are busier (roughly)."""
    while True:
        offset = rng.uniform(60, span)
        hour = int((offset // 3600) % 24)
        if rng.random() < (0.3 if hour < 8 or hour > 20 else 1.0):
            return offset


TICKET_COLUMNS = (
    "id",
    "number",
    "subject",
    "description",
    "type_key",
    "status",
    "status_category",
    "is_open",
    "priority",
    "priority_rank",
    "channel",
    "customer_id",
    "organisation_id",
    "assignee_id",
    "team_id",
    "created_by_id",
    "custom",
    "tags",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "version",
)
MESSAGE_COLUMNS = (
    "ticket_id",
    "kind",
    "author_user_id",
    "author_contact_id",
    "author_name",
    "from_customer",
    "channel",
    "body",
    "created_at",
)


def _message_rows(
    tickets: list[tuple[Any, ...]], stamps: list[datetime], kind: str, now: datetime
) -> list[tuple[Any, ...]]:
    rng = random.Random(SEED + 1)
    rows = []
    for t, created in zip(tickets, stamps, strict=True):
        for n in range(rng.choice((1, 1, 2, 2, 2, 3, 3))):
            at = min(created + timedelta(minutes=5 + 30 * n), now)
            from_customer = n % 2 == 1
            rows.append(
                (
                    t[0],
                    "reply" if n != 2 else "note",
                    None if from_customer else t[13],
                    t[11] if from_customer else None,
                    "客户" if from_customer else "客服",
                    from_customer,
                    t[10],
                    rng.choice(BODIES),
                    _ts(at, kind),
                )
            )
    return rows


def _contacts(count: int, kind: str, now: datetime) -> list[tuple[Any, ...]]:
    created = _ts(now - timedelta(days=800), kind)
    return [
        (i, f"客户{i}", None, None, None, 0, "", "", "", "", "", "[]", created, created)
        for i in range(1, max(count // 10, 100) + 1)
    ]


CONTACT_COLUMNS = (
    "id",
    "name",
    "email",
    "phone",
    "organisation_id",
    "vip_level",
    "province",
    "city",
    "district",
    "address",
    "notes",
    "tags",
    "created_at",
    "updated_at",
)


def _secondary_indexes(*tables: str) -> list[Index]:
    return [ix for name in tables for ix in Base.metadata.tables[name].indexes]


def _load_sqlite(
    target: Target, data: dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]
) -> None:
    conn = sqlite3.connect(target.data_dir / "fuwu.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # only while loading a throw-away dataset
    conn.execute("BEGIN")
    for table, (columns, rows) in data.items():
        marks = ", ".join("?" * len(columns))
        cols = ", ".join(f'"{c}"' for c in columns)
        conn.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)  # noqa: S608
    conn.execute("COMMIT")
    conn.close()


def _load_postgres(
    target: Target, data: dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]
) -> None:
    import psycopg

    url = make_url(target.url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn, conn.cursor() as cur:
        # The rows are consistent by construction: skip the per-row foreign-key triggers.
        cur.execute("SET session_replication_role = replica")
        for table, (columns, rows) in data.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:  # type: ignore[arg-type]
                for row in rows:
                    copy.write_row(row)
            if "id" in columns:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                    f'(SELECT max(id) FROM "{table}"))'
                )


def build(target: Target, *, quiet: bool = False) -> dict[str, Any]:
    """(Re)create the dataset; returns what was built and how long it took."""
    count = SIZES[target.size]
    started = time.perf_counter()
    _fresh_database(target)
    migrate.upgrade(target.url)
    now = datetime.now(UTC)
    people = _people(target.kind, now)
    tickets, stamps, counters = _ticket_rows(target, count, now)
    messages = _message_rows(tickets, stamps, target.kind, now)
    data = {
        "team": (("id", "name", "description", "is_active", "created_at"), people["team"]),
        "user": (
            (
                "id",
                "username",
                "email",
                "display_name",
                "role",
                "ticket_scope",
                "is_active",
                "created_at",
            ),
            people["user"],
        ),
        "team_member": (("team_id", "user_id"), people["team_member"]),
        "contact": (CONTACT_COLUMNS, _contacts(count, target.kind, now)),
        "ticket": (TICKET_COLUMNS, tickets),
        "message": (MESSAGE_COLUMNS, messages),
        "ticket_counter": (("key", "value"), sorted(counters.items())),
    }
    generated = time.perf_counter()
    engine = create_engine(target.url, poolclass=pool.NullPool)
    indexes = _secondary_indexes("ticket", "message")
    with engine.begin() as conn:
        for ix in indexes:
            conn.execute(DropIndex(ix))
    (_load_sqlite if target.kind == "sqlite" else _load_postgres)(target, data)
    loaded = time.perf_counter()
    with engine.begin() as conn:
        for ix in indexes:
            conn.execute(CreateIndex(ix))
    if target.kind == "postgresql":  # what autovacuum would do soon; SQLite gets no statistics
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    info = {
        "kind": target.kind,
        "size": target.size,
        "tickets": count,
        "messages": len(messages),
        "open": sum(1 for t in tickets if t[7]),
        "built_at": now.isoformat(),
        "seconds": {
            "generate": round(generated - started, 1),
            "load": round(loaded - generated, 1),
            "index_analyze": round(time.perf_counter() - loaded, 1),
        },
    }
    target.marker.write_text(json.dumps(info, indent=2))
    if not quiet:
        print(json.dumps(info, ensure_ascii=False))
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--size", choices=tuple(SIZES), default="100k")
    args = parser.parse_args()
    build(Target(args.db, args.size))


if __name__ == "__main__":
    main()
