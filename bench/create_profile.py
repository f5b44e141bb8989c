"""One ticket create, looked at closely: the SQL it sends and the server CPU it costs.

    python -m bench.create_profile --db postgresql          # statements, round trips, CPU
    python -m bench.create_profile --db sqlite --creates 2000

Drives `POST /api/v1/tickets` through the ASGI app in this process (no HTTP, no uvicorn), with
the body bench.run's wrk script sends, against an existing benchmark dataset (bench.dataset).
It prints the statements of one create, the round trips to the database (statements, BEGIN,
COMMIT and pings of idle pooled connections) and the CPU time per create over many creates,
one after another. The creates are committed: they add tickets to the dataset, as wrk does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from bench import dataset
from bench.run import _tokens
from fuwu.app import create_app
from fuwu.config import Settings


def _body(n: int, contacts: int) -> bytes:
    return json.dumps(
        {
            "subject": f"空调不制冷，显示E4故障码 {n}",
            "description": "客户来电：开机十分钟后停机，室外机不转。",
            "priority": "normal",
            "channel": "phone",
            "customer_id": random.randint(1, contacts),
            "team_id": random.randint(1, dataset.TEAMS),
            "tags": ["bench", "空调"],
        },
        ensure_ascii=False,
    ).encode()


async def _post(app: Any, token: str, body: bytes) -> bytes:
    """One request through the ASGI app, as uvicorn would make it; the response body."""
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/tickets", "raw_path": b"/api/v1/tickets",
        "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # a client that stays connected
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    if sent[0]["status"] != 201:
        raise RuntimeError(f"create failed: {sent[0]['status']} {sent[1].get('body', b'')!r}")
    return bytes(sent[1]["body"])


@contextmanager
def recording(engine: Engine) -> Iterator[list[str]]:
    """Every round trip the engine makes while inside: statements, BEGIN, COMMIT, pings."""
    trips: list[str] = []

    def on_execute(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        trips.append(" ".join(statement.split()))

    def on_begin(conn: Any) -> None:
        if conn.dialect.name == "postgresql":  # psycopg sends BEGIN on its own
            trips.append("BEGIN")

    def on_commit(_conn: Any) -> None:
        trips.append("COMMIT")

    ping = engine.dialect.do_ping

    def counted_ping(dbapi_conn: Any) -> bool:
        trips.append("ping (idle pooled connection)")
        return ping(dbapi_conn)

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", on_execute),
        ("begin", on_begin),
        ("commit", on_commit),
    ]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    setattr(engine.dialect, "do_ping", counted_ping)  # noqa: B010 - a method on one instance
    try:
        yield trips
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)
        setattr(engine.dialect, "do_ping", ping)  # noqa: B010


async def profile(target: dataset.Target, creates: int) -> None:
    built = json.loads(target.marker.read_text())
    contacts = max(built["tickets"] // 10, 100)
    token = _tokens(target.url)["admin"]
    settings = Settings(
        _env_file=None,
        env="development",
        data_dir=target.data_dir,
        database_url=target.url,
        embedded_worker=False,
    )
    app = create_app(settings)
    for n in range(50):  # warm up: compiled statements, prepared statements, pool
        await _post(app, token, _body(n, contacts))
    with recording(app.state.engine) as trips:
        await _post(app, token, _body(0, contacts))
    statements = [t for t in trips if t not in ("BEGIN", "COMMIT") and not t.startswith("ping")]
    calls = "round trips" if target.kind == "postgresql" else "calls into SQLite"
    print(f"{target.kind}: {len(statements)} statements, {len(trips)} {calls} per create")
    for trip in trips:
        print(f"  {trip[:110]}{' …' if len(trip) > 110 else ''}")
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(creates):
        await _post(app, token, _body(n, contacts))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{creates} creates one after another: {1000 * wall / creates:.2f} ms wall, "
        f"{1000 * cpu / creates:.2f} ms CPU of this process (all threads) per create"
    )
    app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="the SQL and CPU of one ticket create")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--size", choices=tuple(dataset.SIZES), default="100k")
    parser.add_argument("--creates", type=int, default=1000)
    args = parser.parse_args()
    target = dataset.Target(args.db, args.size)
    if not dataset.exists(target):
        raise SystemExit(f"no dataset: python -m bench.dataset --db {args.db} --size {args.size}")
    asyncio.run(profile(target, args.creates))


if __name__ == "__main__":
    main()
