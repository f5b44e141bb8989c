"""Jobs that follow ticket events."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from fuwu.jobs.registry import JobInfo, handler, subscribe

log = logging.getLogger("fuwu.tickets")


@handler("tickets.log_created")
def log_created(session: Session, payload: dict[str, Any], job: JobInfo) -> None:
    """Log each new ticket (a place for notifications once they land)."""
    log.info("ticket %s created (event %s)", payload.get("entity_id"), payload.get("event_id"))


subscribe("ticket.created", "tickets.log_created")
