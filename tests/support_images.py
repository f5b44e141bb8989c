"""Real image files for upload tests: image fields decode what they are sent (Pillow)."""

from __future__ import annotations

import io

from PIL import Image


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (8, 8), pad: int = 0) -> bytes:
    """A small real image in `fmt`, optionally followed by `pad` bytes (a larger file)."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue() + b"\0" * pad
