"""Keyset pagination: an opaque cursor holding the last row's sort key and id."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from fuwu.errors import ValidationFailed


def encode_cursor(values: list[Any]) -> str:
    """An opaque, URL-safe cursor for the given sort values."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The sort values inside a cursor; a clear 422 when it was tampered with."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed.single("cursor", "invalid_cursor") from exc
    if not isinstance(values, list) or len(values) != size:
        raise ValidationFailed.single("cursor", "invalid_cursor")
    return values
