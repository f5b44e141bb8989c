"""Process engine benchmark: taking a workflow step, and listing the steps of an inbox page.

In process, on a fresh SQLite file (or PostgreSQL with --db postgresql, in a database of its
own that it drops afterwards): the demo's statuses, forms and repair workflow, an engineer and
N dispatched repairs. Then
- each repair takes the step 出发上门 (guard, who, history, event, audit, commit), timed one by
  one: p50 / p95;
- the steps the engineer may take are listed for pages of 50 of those tickets: per page.
Issue 4's goals: a step ≤ 2 ms p95, a page of 50 ≤ 5 ms.

    .venv/bin/python -m bench.workflow_bench [--db postgresql] [--tickets 500]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, pool, select, text
from sqlalchemy.engine import make_url

from fuwu import migrate, wiring
from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.auth.schemas import UserCreate
from fuwu.db import make_engine, make_sessionmakers, transaction
from fuwu.demo import forms as demo_forms
from fuwu.demo import workflows as demo_workflows
from fuwu.tickets import engines, transitions
from fuwu.tickets import service as tickets_service
from fuwu.tickets.models import Ticket
from fuwu.tickets.schemas import TicketCreate

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
DATABASE = "fuwu_bench_workflow"
TIMEZONE = "Asia/Shanghai"


def _database(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{Path(tempfile.mkdtemp()) / 'workflow.sqlite3'}"
    admin = create_engine(make_url(PG_SERVER).set(database="postgres"), poolclass=pool.NullPool,
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}"'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return make_url(PG_SERVER).set(database=DATABASE).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=500)
    args = parser.parse_args()
    wiring.register()
    url = _database(args.db)
    migrate.upgrade(url)
    engine = make_engine(url)
    _, writer = make_sessionmakers(engine, info=engines.session_info())
    system = Principal.system()
    with transaction(writer) as session:
        demo_forms.load(session, timezone=TIMEZONE)
        demo_workflows.load(session)
        engineer = auth_service.create_user(session, actor=system, data=UserCreate(
            username="engineer1", display_name="张建国", role="engineer", password="x" * 16 + "1a",
        ))  # fmt: skip
        me = Principal(user_id=engineer.id, name=engineer.display_name, role="engineer")
        for n in range(args.tickets):
            data = TicketCreate(subject=f"空调不制冷 {n}", type="repair", assignee_id=engineer.id,
                                custom={"product": "空调", "fault_type": "other"})  # fmt: skip
            tickets_service.create_ticket(
                session, actor=system, data=data, number_pattern="R{seq:06}", timezone=TIMEZONE
            )
    with transaction(writer) as session:
        ids = list(session.scalars(select(Ticket.id).order_by(Ticket.id)))
        assert session.scalar(select(Ticket.status).where(Ticket.id == ids[0])) == "dispatched"

    pages = []
    for start in range(0, len(ids) - 49, 50):
        with transaction(writer) as session:
            tickets = session.scalars(select(Ticket).where(Ticket.id.in_(ids[start : start + 50])))
            loaded = list(tickets)
            began = time.perf_counter()
            offered = transitions.available_for(session, actor=me, tickets=loaded, locale="zh_CN",
                                                timezone=TIMEZONE).values()  # fmt: skip
            pages.append(time.perf_counter() - began)
            assert all([s.key for s in o] == ["depart"] for o in offered)

    steps = []
    cpu = time.process_time()
    for ticket_id in ids:
        began = time.perf_counter()
        with transaction(writer) as session:
            transitions.take(session, actor=me, ticket_id=ticket_id, key="depart", values={},
                             version=None, timezone=TIMEZONE)  # fmt: skip
        steps.append(time.perf_counter() - began)
    cpu = (time.process_time() - cpu) / len(ids)
    with transaction(writer) as session:
        moved = session.scalar(select(Ticket.id).where(Ticket.status == "onsite").limit(1))
        assert moved is not None
    engine.dispose()

    def ms(values: list[float], q: float) -> float:
        return round(1000 * statistics.quantiles(values, n=100)[int(q) - 1], 2)

    print(
        f"{args.db}: {len(steps)} steps taken, p50 {ms(steps, 50)} ms, p95 {ms(steps, 95)} ms, "
        f"{round(1000 * cpu, 2)} ms CPU each"
    )
    print(
        f"{args.db}: steps of {len(pages)} pages of 50 tickets, median "
        f"{round(1000 * statistics.median(pages), 2)} ms, max {round(1000 * max(pages), 2)} ms"
    )


if __name__ == "__main__":
    main()
