"""The ASGI entry point for uvicorn: settings from the environment, read once."""

from __future__ import annotations

from fuwu.app import create_app
from fuwu.config import Settings

app = create_app(Settings())
