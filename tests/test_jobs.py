"""Durable jobs: run, retry with backoff, dead letter, idempotency, the outbox, crashed workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

import support_jobs
from fuwu.audit.models import AuditEntry
from fuwu.auth.principal import Principal
from fuwu.db import transaction
from fuwu.jobs import registry
from fuwu.jobs import service as jobs
from fuwu.jobs.models import DomainEvent, Job
from fuwu.jobs.worker import Worker
from fuwu.kit.time import utcnow
from fuwu.tickets import service as tickets_service
from fuwu.tickets.models import Ticket, TicketCounter
from fuwu.tickets.schemas import TicketCreate

only_postgresql = pytest.mark.parametrize("migrated_url", ["postgresql"], indirect=True)


def enqueue(app, kind: str, payload: dict[str, Any] | None = None, **options: Any) -> int | None:
    with transaction(app.state.writer) as session:
        job = jobs.enqueue(session, kind, payload, **options)
        session.flush()
        return job.id if job else None


def job(app, job_id: int) -> Job:
    with transaction(app.state.reader) as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def effects(app, action: str = "effect") -> list[AuditEntry]:
    with transaction(app.state.reader) as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == support_jobs.EFFECT, AuditEntry.action == action)
                .order_by(AuditEntry.id)
            )
        )


def make_due(app, job_id: int) -> None:
    """Pretend the backoff has passed."""
    with transaction(app.state.writer) as session:
        session.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))


def test_enqueued_job_runs_once(app):
    job_id = enqueue(app, "test.effect")
    worker = Worker(app.state.writer, lease_seconds=30, name="w1")
    worker.run_until_idle()
    worker.run_until_idle()
    done = job(app, job_id)
    assert (done.state, done.attempts, done.locked_until) == ("done", 1, None)
    assert done.finished_at is not None
    assert [e.entity_id for e in effects(app)] == [str(job_id)]


def test_failing_job_backs_off_then_goes_dead_and_can_be_retried(app, tmp_path):
    fixed = tmp_path / "fixed"
    job_id = enqueue(app, "test.fail", {"unless_exists": str(fixed)}, max_attempts=3)
    worker = Worker(app.state.writer, lease_seconds=30, name="w1")

    for attempt, base_delay in ((1, 10), (2, 20)):
        before = utcnow()
        assert worker.run_once() == 1
        failed = job(app, job_id)
        assert (failed.state, failed.attempts) == ("queued", attempt)
        assert f"boom on attempt {attempt}" in (failed.last_error or "")
        delay = (failed.run_at - before).total_seconds()
        assert base_delay * 0.8 - 1 <= delay <= base_delay * 1.2 + 1, delay
        assert worker.run_once() == 0, "a job in backoff must not run again yet"
        make_due(app, job_id)

    assert worker.run_once() == 1
    dead = job(app, job_id)
    assert (dead.state, dead.attempts) == ("dead", 3)
    assert dead.finished_at is not None
    with transaction(app.state.reader) as session:
        assert [j.id for j in jobs.list_jobs(session, state="dead")] == [job_id]
    make_due(app, job_id)
    assert worker.run_once() == 0, "a dead job stays dead"
    assert effects(app, "attempt") == [], "a failed attempt's writes must be rolled back"

    fixed.touch()
    with transaction(app.state.writer) as session:
        jobs.retry(session, job_id)
    assert (job(app, job_id).state, job(app, job_id).attempts) == ("queued", 0)
    worker.run_until_idle()
    assert job(app, job_id).state == "done"
    assert len(effects(app, "attempt")) == 1


def test_job_without_handler_fails_instead_of_vanishing(app):
    job_id = enqueue(app, "test.nobody-handles-this", max_attempts=1)
    Worker(app.state.writer, lease_seconds=30).run_until_idle()
    dead = job(app, job_id)
    assert dead.state == "dead"
    assert "no handler registered" in (dead.last_error or "")


def test_idempotency_key_adds_a_job_only_once(app):
    first = enqueue(app, "test.effect", idempotency_key="notify:ticket:1")
    assert first is not None
    assert enqueue(app, "test.effect", idempotency_key="notify:ticket:1") is None
    with transaction(app.state.writer) as session:
        assert jobs.enqueue(session, "test.effect", idempotency_key="notify:ticket:2") is not None
        assert jobs.enqueue(session, "test.effect", idempotency_key="notify:ticket:2") is None
    Worker(app.state.writer, lease_seconds=30).run_until_idle()
    assert len(effects(app)) == 2


@pytest.fixture
def on_ticket_created():
    """A job kind subscribed to ticket.created for the length of one test."""
    kind = "test.on_ticket_created"
    registry.handler(kind)(support_jobs.effect)
    registry.subscribe("ticket.created", kind)
    yield kind
    registry.unregister(kind)


def create_ticket(app, subject: str) -> int:
    settings = app.state.settings
    with transaction(app.state.writer) as session:
        ticket = tickets_service.create_ticket(
            session, actor=Principal.system(), data=TicketCreate(subject=subject),
            number_pattern=settings.ticket_number_pattern, timezone=settings.timezone,
        )  # fmt: skip
        return ticket.id


def test_ticket_event_and_its_jobs_commit_with_the_ticket(app, on_ticket_created):
    ticket_id = create_ticket(app, "Outbox")
    with transaction(app.state.reader) as session:
        [event] = session.scalars(select(DomainEvent).where(DomainEvent.entity_id == ticket_id))
        [queued] = session.scalars(select(Job).where(Job.kind == on_ticket_created))
    assert (event.name, event.entity) == ("ticket.created", "ticket")
    assert queued.payload == {
        "event_id": event.id,
        "event": "ticket.created",
        "entity_id": ticket_id,
    }
    assert queued.idempotency_key == f"{on_ticket_created}:event:{event.id}"
    Worker(app.state.writer, lease_seconds=30).run_until_idle()
    assert job(app, queued.id).state == "done"


def test_rolled_back_change_leaves_no_ticket_event_or_job(app, on_ticket_created):
    class Abort(Exception):
        pass

    def create_then_fail() -> None:
        with transaction(app.state.writer) as session:
            settings = app.state.settings
            tickets_service.create_ticket(
                session, actor=Principal.system(), data=TicketCreate(subject="Never stored"),
                number_pattern=settings.ticket_number_pattern, timezone=settings.timezone,
            )  # fmt: skip
            session.flush()
            assert session.scalar(select(func.count()).select_from(Job)) == 1
            raise Abort()

    with pytest.raises(Abort):
        create_then_fail()
    with transaction(app.state.reader) as session:
        for model in (Ticket, DomainEvent, Job, TicketCounter, AuditEntry):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model.__name__


def test_expired_lease_is_taken_over_and_the_late_worker_does_nothing(app):
    job_id = enqueue(app, "test.effect")
    with transaction(app.state.writer) as session:
        assert jobs.claim(session, worker_id="stalled", lease_seconds=30) == [job_id]
    survivor = Worker(app.state.writer, lease_seconds=30, name="survivor")
    assert survivor.run_once() == 0, "a leased job belongs to its worker until the lease ends"
    with transaction(app.state.writer) as session:
        session.execute(
            update(Job).where(Job.id == job_id).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert survivor.run_once() == 1
    stalled = Worker(app.state.writer, lease_seconds=30, name="stalled")
    stalled._run(job_id)  # the stalled worker wakes up and tries to finish its copy
    done = job(app, job_id)
    assert (done.state, done.attempts, done.locked_by) == ("done", 2, "survivor")
    assert len(effects(app)) == 1


WORKER_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[2])
import support_jobs  # registers the test handlers
from fuwu import migrate
from fuwu.db import make_engine, make_sessionmakers
from fuwu.jobs.worker import Worker
from fuwu.tickets import engines
migrate.load_models()
writer = make_sessionmakers(make_engine(sys.argv[1], pool_size=2), info=engines.session_info())[1]
Worker(writer, lease_seconds=2, poll_seconds=0.05, name="doomed").run_forever()
"""


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_worker_killed_mid_job_is_retried_and_takes_effect_once(app, db_url, tmp_path):
    marker = tmp_path / "started"
    job_id = enqueue(app, "test.effect", {"marker": str(marker), "hang": 120})
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUWU_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT, db_url, str(Path(__file__).parent)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(
            lambda: marker.exists() or proc.poll() is not None, 60, "the worker to start the job"
        )
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        running = job(app, job_id)
        assert (running.state, running.locked_by, running.attempts) == ("running", "doomed", 1)
        assert effects(app) == [], "the effect is not committed while the job runs"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()

    survivor = Worker(app.state.writer, lease_seconds=30, poll_seconds=0.05, name="survivor")

    def finished() -> bool:
        survivor.run_until_idle()
        return job(app, job_id).state == "done"

    wait_for(finished, 30, "another worker to finish the job after the lease ran out")
    done = job(app, job_id)
    assert (done.attempts, done.locked_by) == (2, "survivor")
    [effect] = effects(app)
    assert effect.after == {"attempt": 2}


@only_postgresql
def test_skip_locked_claims_are_disjoint(app):
    for _ in range(6):
        enqueue(app, "test.effect")
    with transaction(app.state.writer) as first:
        mine = jobs.claim(first, worker_id="a", lease_seconds=30, batch=3)
        with transaction(app.state.writer) as second:
            # Without SKIP LOCKED this would wait for the first transaction (and time out).
            second.execute(text("SET LOCAL lock_timeout = '2s'"))
            theirs = jobs.claim(second, worker_id="b", lease_seconds=30, batch=3)
    assert len(mine) == len(theirs) == 3
    assert not set(mine) & set(theirs)


@only_postgresql
def test_parallel_workers_never_run_the_same_job(app):
    ids = [enqueue(app, "test.effect", {"pause": 0.01}) for _ in range(40)]
    start = threading.Barrier(2)

    def work(name: str) -> None:
        worker = Worker(app.state.writer, lease_seconds=30, name=name)
        start.wait()
        idle_rounds = 0
        while idle_rounds < 2:
            idle_rounds = idle_rounds + 1 if worker.run_once(batch=4) == 0 else 0

    threads = [threading.Thread(target=work, args=(n,), name=n) for n in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    done = effects(app)
    assert sorted(int(e.entity_id) for e in done) == sorted(ids), "every job ran exactly once"
    by_worker = Counter(e.actor_name for e in done)
    assert set(by_worker) == {"w1", "w2"}, by_worker
    with transaction(app.state.reader) as session:
        states = set(session.execute(select(Job.state, Job.attempts).where(Job.id.in_(ids))))
    assert states == {("done", 1)}


@only_postgresql
def test_a_slow_job_past_its_lease_is_not_taken_over_while_its_worker_lives(app):
    job_id = enqueue(app, "test.effect", {"pause": 2.5})
    slow = Worker(app.state.writer, lease_seconds=1, name="slow")
    runner = threading.Thread(target=slow.run_once, name="slow")
    runner.start()
    wait_for(lambda: job(app, job_id).state == "running", 10, "the slow worker to claim it")
    time.sleep(1.5)  # the lease has run out, but the slow worker still holds the job's row
    eager = Worker(app.state.writer, lease_seconds=30, name="eager")
    assert eager.run_once() == 0, "a live worker's job must not be claimed again"
    runner.join(timeout=30)
    done = job(app, job_id)
    assert (done.state, done.attempts, done.locked_by) == ("done", 1, "slow")
    assert len(effects(app)) == 1


def test_a_side_effect_is_not_repeated_when_the_job_is_retried(app, tmp_path):
    outbox = tmp_path / "outbox.txt"
    job_id = enqueue(app, "test.send", {"outbox": str(outbox)}, idempotency_key="mail:42")
    worker = Worker(app.state.writer, lease_seconds=30, name="w1")
    worker.run_until_idle()
    assert job(app, job_id).state == "queued"  # the first attempt failed after sending
    make_due(app, job_id)
    worker.run_until_idle()
    assert job(app, job_id).state == "done"
    assert outbox.read_text().splitlines() == ["mail:42:mail"]  # sent once, with its key


def test_jobs_claimed_but_not_started_are_released_at_once(app):
    worker = Worker(app.state.writer, lease_seconds=300, name="w-stop")
    support_jobs.STOPPING["w-stop"] = worker.stopping
    first = enqueue(app, "test.stop", {"worker": "w-stop"})
    rest = [enqueue(app, "test.effect") for _ in range(3)]
    assert worker.run_once(batch=10) == 4
    assert job(app, first).state == "done"
    for job_id in rest:
        released = job(app, job_id)
        assert (released.state, released.attempts, released.locked_by) == ("queued", 0, None)
    other = Worker(app.state.writer, lease_seconds=300, name="w-next")
    other.run_until_idle()  # no wait for a lease
    assert {job(app, j).state for j in rest} == {"done"}


def test_a_database_error_mid_batch_releases_the_jobs_not_started(app, monkeypatch):
    ids = [enqueue(app, "test.effect") for _ in range(3)]
    worker = Worker(app.state.writer, lease_seconds=300, name="w-db")
    real_run = worker._run
    calls = []

    def flaky(job_id: int) -> None:
        calls.append(job_id)
        if len(calls) == 2:
            raise ConnectionError("server closed the connection unexpectedly")
        real_run(job_id)

    monkeypatch.setattr(worker, "_run", flaky)
    with pytest.raises(ConnectionError):
        worker.run_once(batch=10)
    assert job(app, ids[0]).state == "done"
    assert job(app, ids[1]).state == "running"  # started: its lease decides (at least once)
    released = job(app, ids[2])
    assert (released.state, released.attempts, released.locked_by) == ("queued", 0, None)
