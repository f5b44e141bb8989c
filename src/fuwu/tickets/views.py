"""HTML routes for the inbox and tickets (filled in by the UI work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
