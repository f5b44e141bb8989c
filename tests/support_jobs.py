"""Job handlers for tests/test_jobs.py; a worker subprocess imports this module too.

Each handler writes its "effect" as an audit row (entity "test_effect") in the job's own
transaction, so a test can count how often a job really took effect.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from fuwu.audit import service as audit
from fuwu.jobs.registry import JobInfo, handler

EFFECT = "test_effect"


def _effect(session: Session, job: JobInfo, action: str = "effect") -> None:
    audit.record(
        session, actor_id=None, actor_name=threading.current_thread().name, action=action,
        entity=EFFECT, entity_id=job.id, after={"attempt": job.attempt},
    )  # fmt: skip
    session.flush()


@handler("test.effect")
def effect(session: Session, payload: dict[str, Any], job: JobInfo) -> None:
    """Record the effect; on the first attempt optionally announce itself and hang."""
    _effect(session, job)
    if payload.get("marker") and job.attempt == 1:
        Path(payload["marker"]).write_text("started", encoding="utf-8")
        time.sleep(float(payload.get("hang", 60)))
    time.sleep(float(payload.get("pause", 0)))


@handler("test.fail")
def fail(session: Session, payload: dict[str, Any], job: JobInfo) -> None:
    """Write an effect, then fail (so the effect must be rolled back) unless a file exists."""
    _effect(session, job, action="attempt")
    unless = payload.get("unless_exists")
    if unless and Path(unless).exists():
        return
    raise RuntimeError(f"boom on attempt {job.attempt}")


@handler("test.send")
def send(session: Session, payload: dict[str, Any], job: JobInfo) -> None:
    """'Send a message' (append a line to a file: a side effect outside the database), then
    fail on the first attempt, as a commit that fails after the send would."""
    _effect(session, job, action="before-send")

    def deliver(key: str) -> None:
        with Path(payload["outbox"]).open("a", encoding="utf-8") as out:
            out.write(f"{key}\n")

    job.once("mail", deliver)
    if job.attempt == 1:
        raise RuntimeError("the commit after sending failed")


@handler("test.stop")
def stop(session: Session, payload: dict[str, Any], job: JobInfo) -> None:
    """Ask the worker running this job to stop (it is in the payload's registry)."""
    _effect(session, job)
    STOPPING[payload["worker"]].set()


STOPPING: dict[str, threading.Event] = {}
