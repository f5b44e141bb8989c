"""Request guard benchmark: what `web.guard` adds to one JSON request (a ticket create body).

Pure CPU, in process: the guard around a bare ASGI app against the bare app, best of 5 rounds
of 20,000 calls (docs/benchmarks.md, "The request guard").

    .venv/bin/python -m bench.guard_bench
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fuwu.web.guard import RequestGuardMiddleware

BODY = json.dumps(
    {
        "subject": "洗衣机脱水时异响",
        "description": "脱水时声音很大，像是有东西在撞。" * 3,
        "priority": "high",
        "customer": {"name": "陈静", "email": "chen@example.com"},
        "custom": {"product": "滚筒洗衣机", "fault_type": "noise"},
    }
).encode()
SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/api/v1/tickets",
    "raw_path": b"/api/v1/tickets",
    "query_string": b"",
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
        (b"authorization", b"Bearer fuwu_x_y"),
    ],
}


async def bare(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": BODY, "more_body": False}


async def _send(message: Any) -> None:
    return None


async def _allow(scope: Any) -> bool:
    return True


async def _respond(*args: Any) -> None:
    return None


async def _per_call(target: Any, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        await target(dict(SCOPE), _receive, _send)
    return (time.perf_counter() - start) / calls * 1e6


async def main() -> None:
    guarded = RequestGuardMiddleware(
        bare, json_limit=1 << 20, upload_limit=1 << 26, credentials_ok=_allow,
        public_prefixes=(), respond=_respond,
    )  # fmt: skip
    results = {}
    for name, target in (("bare", bare), ("guarded", guarded)):
        await _per_call(target, 2000)  # warm up
        results[name] = min([await _per_call(target, 20_000) for _ in range(5)])
        print(f"{name}: {results[name]:.2f} µs per request")
    print(f"guard: {results['guarded'] - results['bare']:.2f} µs per JSON request")


if __name__ == "__main__":
    asyncio.run(main())
