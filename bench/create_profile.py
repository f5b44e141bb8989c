"""One ticket create or reply, looked at closely: the SQL it sends and the server CPU it costs.

    python -m bench.create_profile --db postgresql          # statements, round trips, CPU
    python -m bench.create_profile --db sqlite --creates 2000
    python -m bench.create_profile --reply --cprofile 25    # a reply; its 25 costliest calls

Drives `POST /api/v1/tickets` (or `POST /api/v1/tickets/{id}/messages`) through the ASGI app
in this process (no HTTP, no uvicorn), with the body bench.run's wrk script sends, against an
existing benchmark dataset (bench.dataset). It prints the statements of one request, the round
trips to the database (statements, BEGIN, COMMIT and pings of idle pooled connections) and the
CPU time per request over many, one after another. They are committed: they add tickets or
messages to the dataset, as wrk does. `--cprofile N` lists the N costliest calls of the event
loop's thread (work handed to worker threads is not profiled).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from bench import dataset
from bench.run import _open_ticket_ids, _tokens
from fuwu import migrate
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


def _reply_body(_n: int, _contacts: int) -> bytes:
    return json.dumps(
        {"body": "您好，工程师明天上午上门，请保持电话畅通。", "kind": "reply"}, ensure_ascii=False
    ).encode()


async def _post(app: Any, token: str, body: bytes, path: str = "/api/v1/tickets") -> bytes:
    """One request through the ASGI app, as uvicorn would make it; the response body."""
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(),
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
        raise RuntimeError(f"{path} failed: {sent[0]['status']} {sent[1].get('body', b'')!r}")
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


async def profile(target: dataset.Target, creates: int, *, reply: bool, top: int) -> None:
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
    make, paths = _body, ["/api/v1/tickets"]
    if reply:
        make, paths = (
            _reply_body,
            [f"/api/v1/tickets/{i}/messages" for i in _open_ticket_ids(target.url)],
        )
    for n in range(50):  # warm up: compiled statements, prepared statements, pool
        await _post(app, token, make(n, contacts), random.choice(paths))
    with recording(app.state.engine) as trips:
        await _post(app, token, make(0, contacts), random.choice(paths))
    statements = [t for t in trips if t not in ("BEGIN", "COMMIT") and not t.startswith("ping")]
    calls = "round trips" if target.kind == "postgresql" else "calls into SQLite"
    what = "reply" if reply else "create"
    print(f"{target.kind}: {len(statements)} statements, {len(trips)} {calls} per {what}")
    for trip in trips:
        print(f"  {trip[:110]}{' …' if len(trip) > 110 else ''}")
    profiler = cProfile.Profile() if top else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for n in range(creates):
        await _post(app, token, make(n, contacts), random.choice(paths))
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{creates} {what}s one after another: {1000 * wall / creates:.2f} ms wall, "
        f"{1000 * cpu / creates:.2f} ms CPU of this process (all threads) per {what}"
    )
    if profiler:  # threads the app hands work to are not profiled; the event loop's are
        pstats.Stats(profiler).sort_stats("tottime").print_stats(top)
    app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="the SQL and CPU of one ticket create")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--size", choices=tuple(dataset.SIZES), default="100k")
    parser.add_argument("--creates", type=int, default=1000, help="how many requests to time")
    parser.add_argument("--reply", action="store_true", help="replies to open tickets instead")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="N costliest calls")
    args = parser.parse_args()
    target = dataset.Target(args.db, args.size)
    if not dataset.exists(target):
        raise SystemExit(f"no dataset: python -m bench.dataset --db {args.db} --size {args.size}")
    migrate.upgrade(target.url)  # a dataset built by older code gets the newer migrations
    asyncio.run(profile(target, args.creates, reply=args.reply, top=args.cprofile))


if __name__ == "__main__":
    main()
