"""Enqueue jobs, emit events (outbox), claim and settle jobs."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from fuwu.db import Children, New, table
from fuwu.errors import NotFound
from fuwu.jobs import registry
from fuwu.jobs.models import DomainEvent, Job, JobEffect
from fuwu.kit.time import utcnow


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    idempotency_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 8,
) -> Job | None:
    """Add a job in the caller's transaction; a known idempotency key adds nothing."""
    if idempotency_key is not None:
        existing = session.scalar(select(Job.id).where(Job.idempotency_key == idempotency_key))
        if existing is not None:
            return None
    job = Job(
        kind=kind,
        payload=payload or {},
        idempotency_key=idempotency_key,
        run_at=run_at or utcnow(),
        max_attempts=max_attempts,
        state="queued",
        attempts=0,
    )
    session.add(job)
    return job


_INSERT_EVENT = insert(table(DomainEvent))
_INSERT_EVENT_RETURNING_ID = _INSERT_EVENT.returning(table(DomainEvent).c.id)


def emit(
    session: Session,
    name: str,
    *,
    entity: str,
    entity_id: int,
    actor_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> int | None:
    """Write a domain event and a job for each subscriber, in the caller's transaction.

    Returns the event id when there are subscribers (None otherwise: no RETURNING needed).
    """
    values = {
        "name": name,
        "entity": entity,
        "entity_id": entity_id,
        "actor_id": actor_id,
        "payload": payload or {},
        "created_at": utcnow(),
    }
    kinds = registry.subscribers(name)
    if not kinds:
        session.execute(_INSERT_EVENT, values)  # one row as a dict: no executemany
        return None
    event_id = int(session.execute(_INSERT_EVENT_RETURNING_ID, values).scalar_one())
    for kind in kinds:
        enqueue(
            session,
            kind,
            {"event_id": event_id, "event": name, "entity_id": entity_id},
            idempotency_key=f"{kind}:event:{event_id}",
        )
    return event_id


def pending_event(
    name: str,
    *,
    entity: str,
    entity_id: int | New | None = None,
    actor_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Children | None:
    """The outbox row of an event to insert with a row by `db.insert_with_children`: what
    `emit` would write. The event is about the inserted row (its id fills in `entity_id`)
    unless `entity_id` names another; any `New` value in `payload` is filled in too.

    None when the event has subscribers: their jobs need the event's id, so call `emit`
    after the insert instead.
    """
    if registry.subscribers(name):
        return None
    values = {
        "name": name,
        "entity": entity,
        "entity_id": New() if entity_id is None else entity_id,
        "actor_id": actor_id,
        "payload": payload or {},
        "created_at": utcnow(),
    }
    return Children(table(DomainEvent), [values])


def latest_event_id(session: Session) -> int:
    """The id of the newest domain event (0 when none): a cheap change marker."""
    return int(session.scalar(select(func.max(DomainEvent.id))) or 0)


def claim(session: Session, *, worker_id: str, lease_seconds: int, batch: int = 10) -> list[int]:
    """Take up to `batch` due jobs (or ones whose lease ran out) and lease them to a worker."""
    now = utcnow()
    due = or_(
        and_(Job.state == "queued", Job.run_at <= now),
        and_(Job.state == "running", Job.locked_until < now),
    )
    stmt = select(Job.id).where(due).order_by(Job.run_at, Job.id).limit(batch)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(session.scalars(stmt))
    if ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(ids))
            .values(
                state="running",
                locked_by=worker_id,
                locked_until=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1,
            )
        )
    return ids


def release(session: Session, job_ids: Sequence[int], *, worker_id: str) -> int:
    """Give back jobs this worker claimed but did not start (it is stopping, or the database
    failed under it): queued again at once, the claim not counted as an attempt."""
    if not job_ids:
        return 0
    result = session.execute(
        update(Job)
        .where(Job.id.in_(list(job_ids)), Job.state == "running", Job.locked_by == worker_id)
        .values(state="queued", locked_by=None, locked_until=None, attempts=Job.attempts - 1)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def effect_done(session: Session, key: str) -> bool:
    """Whether a side effect with this key was recorded."""
    return session.scalar(select(JobEffect.id).where(JobEffect.key == key)) is not None


def record_effect(session: Session, key: str, job_id: int | None) -> None:
    session.add(JobEffect(key=key, job_id=job_id))


def backoff(attempt: int) -> timedelta:
    """Exponential backoff with jitter: 10 s, 20 s, 40 s … capped at one hour."""
    seconds = min(10 * 2 ** max(attempt - 1, 0), 3600)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def mark_done(session: Session, job: Job) -> None:
    """Settle a job as done (in the same transaction as the handler's effects)."""
    job.state = "done"
    job.finished_at = utcnow()
    job.locked_until = None
    job.last_error = None


def mark_failed(session: Session, job_id: int, *, worker_id: str, error: str) -> None:
    """Record a failure: retry later with backoff, or move to the dead-letter list."""
    job = session.get(Job, job_id)
    if job is None or job.locked_by != worker_id or job.state != "running":
        return
    job.last_error = error[-4000:]
    job.locked_until = None
    if job.attempts >= job.max_attempts:
        job.state = "dead"
        job.finished_at = utcnow()
    else:
        job.state = "queued"
        job.run_at = utcnow() + backoff(job.attempts)


def list_jobs(session: Session, *, state: str | None = None, limit: int = 100) -> Sequence[Job]:
    """Jobs newest first, optionally in one state (e.g. the dead-letter list)."""
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(Job.state == state)
    return session.scalars(stmt).all()


def retry(session: Session, job_id: int) -> Job:
    """Put a dead (or failed) job back in the queue for another round of attempts."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("Job %(id)s does not exist.", id=job_id)
    job.state = "queued"
    job.attempts = 0
    job.run_at = utcnow()
    job.finished_at = None
    return job
