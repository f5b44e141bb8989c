"""The request guard: bounded bodies, no NUL characters, credentials before big bodies, and a
500 that keeps the connection.

Pure ASGI, outside the routes, so it holds for every route there is and every one to come:
- a body longer than its limit is answered 413 before it is read (Content-Length) or as soon
  as the limit is passed (chunked), whatever the route does with it;
- a body that may be large (over `CHECK_CREDENTIALS_OVER` or chunked) is read only after the
  caller's credentials were checked (`credentials_ok`, given by the app: web cannot import auth);
- NUL characters in a query parameter, the path, a JSON or a url-encoded body answer 422 naming
  the field (PostgreSQL text cannot hold NUL, and no person types one);
- an unexpected exception becomes a logged 500 with a request id, and the exception stops here,
  so the server does not close the keep-alive connection after the answer.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("fuwu.errors")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHECK_CREDENTIALS_OVER = 64 * 1024
NUL_MARKS = (b"\x00", b"\\u0000", b"%00")


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its limit; rendered as 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413)
        self.limit = limit


class NulCharacter(Exception):
    """A NUL character in the named request fields."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


# (scope, status, code, fields) -> response sent; the app renders JSON or a page
Responder = Callable[[Scope, Receive, Send, int, dict[str, Any]], Awaitable[None]]
CredentialsCheck = Callable[[Scope], Awaitable[bool]]


def nul_paths(value: Any, path: str = "") -> list[str]:
    """The dotted paths of the strings (keys included) in a JSON value that hold a NUL."""
    found: list[str] = []
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                found.append(where.replace("\x00", "\\0"))
            else:
                found += nul_paths(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += nul_paths(item, f"{path}[{index}]" if path else f"[{index}]")
    return found


def _query_nuls(query: bytes) -> list[str]:
    if not any(mark in query for mark in NUL_MARKS):
        return []
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return sorted({k.replace("\x00", "\\0") for k, v in pairs if "\x00" in k or "\x00" in v})


def _body_nuls(content_type: str, body: bytes) -> list[str]:
    if not any(mark in body for mark in NUL_MARKS):
        return []
    if content_type.startswith("application/x-www-form-urlencoded"):
        return _query_nuls(body)
    if "json" in content_type:
        try:
            return nul_paths(json.loads(body))
        except (ValueError, RecursionError):  # not JSON: the route's own parser names that
            return []
    return []


class RequestGuardMiddleware:
    """See the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        json_limit: int,
        upload_limit: int,
        credentials_ok: CredentialsCheck,
        public_prefixes: tuple[str, ...],
        respond: Responder,
    ) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit
        self.credentials_ok = credentials_ok
        self.public_prefixes = public_prefixes
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        try:
            await self._guarded(scope, receive, send_with_id)
        except Exception:
            log.exception(
                "unhandled error on %s %s (request %s)",
                scope["method"],
                scope["path"],
                request_id.decode(),
            )
            if not started:
                await self.respond(scope, receive, send_with_id, 500, {})
            # Not re-raised: the answer is complete, so the connection can serve the next one.

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        fields = _query_nuls(scope.get("query_string", b""))
        raw_path = scope.get("raw_path") or b""
        if b"%00" in raw_path or "\x00" in scope["path"]:
            fields.append("path")
        if fields:
            await self.respond(scope, receive, send, 422, {"nul_fields": fields})
            return
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        limit = self.upload_limit if content_type.startswith("multipart/") else self.json_limit
        try:
            length = int(headers[b"content-length"]) if b"content-length" in headers else None
        except ValueError:
            await self.respond(scope, receive, send, 400, {})
            return
        if length is not None and length > limit:
            await self.respond(scope, receive, send, 413, {"limit": limit})
            return
        large = length is None or length > CHECK_CREDENTIALS_OVER
        public = scope["path"].startswith(self.public_prefixes)
        if large and not public and not await self.credentials_ok(scope):
            await self.respond(scope, receive, send, 401, {})
            return
        if content_type.startswith("multipart/"):
            await self.app(scope, _bounded(receive, limit), send)
            return
        await self._buffered(scope, receive, send, content_type, limit)

    async def _buffered(
        self, scope: Scope, receive: Receive, send: Send, content_type: str, limit: int
    ) -> None:
        """Read a small body whole (bounded), check it for NUL, then hand it on unchanged."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self.respond(scope, receive, send, 413, {"limit": limit})
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        fields = _body_nuls(content_type, body)
        if fields:
            await self.respond(scope, receive, send, 422, {"nul_fields": fields})
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # waits for the disconnect, as a real body read would
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _bounded(receive: Receive, limit: int) -> Receive:
    """`receive`, raising BodyTooLarge once more than `limit` bytes came (chunked uploads)."""
    size = 0

    async def bounded() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge(limit)
        return message

    return bounded


def _request_id(scope: Scope) -> bytes:
    """The caller's X-Request-ID when it is a sane token, else a new random one."""
    for key, value in scope["headers"]:
        if key.lower() == b"x-request-id" and _sane_id(value):
            return bytes(value)
    return secrets.token_hex(8).encode()


def _sane_id(value: bytes) -> bool:
    text = value.decode("latin-1")
    return 8 <= len(text) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_.") for c in text)
