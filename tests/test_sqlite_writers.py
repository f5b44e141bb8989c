"""SQLite: writers of several processes take turns (the write queue), none fails or starves."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from fuwu.db import WriteQueue, transaction
from fuwu.tickets.models import Ticket

WRITER = """
import sys
from fuwu import migrate
from fuwu.auth.principal import Principal
from fuwu.db import make_engine, make_sessionmakers, transaction
from fuwu.tickets import engines, service
from fuwu.tickets.schemas import TicketCreate
migrate.load_models()
writer = make_sessionmakers(make_engine(sys.argv[1]), info=engines.session_info())[1]
for i in range(int(sys.argv[2])):
    with transaction(writer) as session:
        service.create_ticket(
            session, actor=Principal.system(), data=TicketCreate(subject=f"{sys.argv[3]} {i}"),
            number_pattern="SR{yyyy}{mm}{dd}-{seq:05}", timezone="Asia/Shanghai",
        )
"""


def test_two_processes_creating_tickets_at_once_all_succeed(app, db_kind, db_url):
    if db_kind != "sqlite":
        pytest.skip("the write queue is SQLite's")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUWU_")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, "25", name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for name in ("left", "right")
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    with transaction(app.state.reader) as session:
        total = session.scalar(select(func.count()).select_from(Ticket))
        numbers = session.scalar(select(func.count(func.distinct(Ticket.number))))
    assert total == numbers == 50


def test_the_write_queue_is_shared_across_processes(tmp_path):
    database = str(tmp_path / "q.sqlite3")
    mine = WriteQueue(database)
    assert mine.acquire(timeout=1)
    other = subprocess.run(
        [
            sys.executable, "-c",
            "import sys; from fuwu.db import WriteQueue; "
            "sys.exit(0 if WriteQueue(sys.argv[1]).acquire(timeout=0.3) else 3)",
            database,
        ],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert other.returncode == 3, "another process must wait while this one writes"
    mine.release()
    start = time.monotonic()
    again = subprocess.run(
        [
            sys.executable, "-c",
            "import sys; from fuwu.db import WriteQueue; "
            "sys.exit(0 if WriteQueue(sys.argv[1]).acquire(timeout=5) else 3)",
            database,
        ],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert time.monotonic() - start < 30
