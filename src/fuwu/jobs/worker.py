"""The worker loop: claim due jobs, run each in its own transaction, settle it."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from fuwu.db import transaction
from fuwu.jobs import registry
from fuwu.jobs import service as jobs_service
from fuwu.jobs.models import Job

log = logging.getLogger("fuwu.worker")


class Worker:
    """Runs jobs until stopped; safe to run many at once (leases, SKIP LOCKED)."""

    def __init__(
        self,
        writer: sessionmaker[Session],
        *,
        lease_seconds: int = 300,
        poll_seconds: float = 1.0,
        name: str | None = None,
    ) -> None:
        self.writer = writer
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.worker_id = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.stopping = threading.Event()

    def run_once(self, batch: int = 10) -> int:
        """Claim and run one batch; returns how many jobs were claimed."""
        with transaction(self.writer) as session:
            ids = jobs_service.claim(
                session, worker_id=self.worker_id, lease_seconds=self.lease_seconds, batch=batch
            )
        started = 0
        try:
            for job_id in ids:
                if self.stopping.is_set():
                    break
                started += 1
                self._run(job_id)
        finally:
            self._release(ids[started:])
        return len(ids)

    def _release(self, job_ids: list[int]) -> None:
        """Hand back claimed jobs that were not started, instead of leaving them to the lease;
        when even that fails (the database is down), the lease brings them back."""
        if not job_ids:
            return
        try:
            with transaction(self.writer) as session:
                jobs_service.release(session, job_ids, worker_id=self.worker_id)
        except Exception:
            log.exception("could not release jobs %s; their lease will", job_ids)

    @staticmethod
    def _ledger(session: Session, job_id: int) -> registry.EffectRunner:
        """`JobInfo.once` for a job running in `session`.

        An effect ends an atomic phase (the idempotency-key pattern): its record commits at
        once, with the handler's writes before it, and the job's row is locked again for the
        rest. A second transaction for the record is no option: on SQLite it would wait for
        the write lock this very job holds.
        """

        def run(key: str, effect: Callable[[str], None]) -> bool:
            if jobs_service.effect_done(session, key):
                log.info("job %s: effect %s was done by an earlier attempt", job_id, key)
                return False
            effect(key)
            jobs_service.record_effect(session, key, job_id)
            session.commit()
            session.get(Job, job_id, with_for_update=True, populate_existing=True)
            return True

        return run

    def run_until_idle(self, max_rounds: int = 100) -> None:
        """Run batches until nothing is due (tests, `fuwu worker --once`)."""
        for _ in range(max_rounds):
            if self.run_once() == 0:
                return

    def run_forever(self) -> None:
        """Poll until `stop()`; errors in the loop itself are logged, never fatal."""
        log.info("worker %s started", self.worker_id)
        while not self.stopping.is_set():
            try:
                claimed = self.run_once()
            except Exception:
                log.exception("worker loop error")
                claimed = 0
            if claimed == 0:
                self.stopping.wait(self.poll_seconds)
        log.info("worker %s stopped", self.worker_id)

    def stop(self) -> None:
        self.stopping.set()

    def _run(self, job_id: int) -> None:
        try:
            with transaction(self.writer) as session:
                # PostgreSQL: the row stays locked while the handler runs, so a claimer (SKIP
                # LOCKED) cannot take the job over even when the lease runs out mid-job; only a
                # dead worker's connection releases it. SQLite: the write lock does the same.
                # Wait (no SKIP LOCKED) for the lock: another worker's claim may hold it for a
                # moment even though it did not take this job (PostgreSQL keeps the lock of a
                # row that failed the claim's re-check until that transaction ends).
                job = session.get(Job, job_id, with_for_update=True)
                if job is None or job.state != "running" or job.locked_by != self.worker_id:
                    return  # settled meanwhile, or our lease ran out and another took it
                handler = registry.get_handler(job.kind)
                if handler is None:
                    raise LookupError(f"no handler registered for job kind {job.kind!r}")
                info = registry.JobInfo(
                    job.id,
                    job.kind,
                    job.attempts,
                    job.idempotency_key,
                    self._ledger(session, job.id),
                )
                handler(session, dict(job.payload), info)
                jobs_service.mark_done(session, job)
        except Exception:
            log.warning("job %s failed", job_id, exc_info=True)
            error = traceback.format_exc(limit=5)
            with transaction(self.writer) as session:
                jobs_service.mark_failed(session, job_id, worker_id=self.worker_id, error=error)
