"""API shapes for background jobs (the dead-letter list)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    state: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    run_at: datetime
    locked_by: str | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
