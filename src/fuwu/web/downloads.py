"""Serving a stored file: always as a download, never rendered as a page of this site."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from fuwu.kit.time import utcnow


def download_response(
    request: Request, *, sha256: str, filename: str, size: int, media_type: str
) -> StreamingResponse:
    """A stored file as a download: nosniff, attachment disposition, sandboxed (an uploaded
    HTML or SVG file cannot run as a page of this site; an <img> still shows an image)."""
    handle = request.app.state.store.open(sha256)
    disposition = f"attachment; filename=\"download\"; filename*=UTF-8''{quote(filename)}"
    headers = {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Length": str(size),
    }
    return StreamingResponse(
        handle,
        media_type=media_type,
        headers=headers,
        background=BackgroundTask(handle.close),  # iterating a file object never closes it
    )


def csv_response(body: str, name: str) -> Response:
    """An export as a download named `<name>-<UTC minute>.csv` (UTF-8; the body has its BOM)."""
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"'},
    )
