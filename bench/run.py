"""Run the benchmarks: ticket create, inbox pages (first and deep), message add, server RSS.

    python -m bench.run                         # SQLite and PostgreSQL, 100k tickets
    python -m bench.run --db postgresql --size 1m
    python -m bench.run --quick                 # a 10k dataset and short runs, for a smoke test
    python -m bench.run --db postgresql --only create --repeat 3   # ticket create only

The server runs as `fuwu serve --workers 2 --no-worker` on 127.0.0.1 against the dataset's
database (built by bench.dataset when missing). Load comes from wrk (Debian package `wrk`) with
Lua scripts, so the load generator costs little CPU; the inbox is walked by one sequential
httpx client that follows the cursors. Results go to bench/results/<db>-<size>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import select

from bench import dataset
from fuwu import migrate
from fuwu.auth import access
from fuwu.auth.models import User
from fuwu.auth.principal import Principal
from fuwu.db import make_engine, make_sessionmakers, transaction
from fuwu.tickets.models import Ticket

RESULTS = Path(__file__).resolve().parent / "results"
INBOX = "/api/v1/tickets?status_category=new,open,pending&limit=25"
TEAM_AGENT = "agent010"  # a team-scoped agent of Team 01
WRK_DONE = """
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT {\\"requests\\":%d,\\"duration_us\\":%d,\\"status_errors\\":%d,"
    .. "\\"connect_errors\\":%d,\\"timeouts\\":%d,\\"p50\\":%d,\\"p95\\":%d,\\"p99\\":%d}\\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99)))
end
"""
CREATE_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"subject":"空调不制冷，显示E4故障码 %%d","description":"客户来电：开机十分钟后停机，'
    .. '室外机不转。","priority":"normal","channel":"phone","customer_id":%%d,'
    .. '"team_id":%%d,"tags":["bench","空调"]}',
    n, math.random(%(contacts)d), math.random(%(teams)d))
  return wrk.format(nil, "/api/v1/tickets", nil, body)
end
"""
INBOX_LUA = """
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.path = "%(path)s"
"""
MESSAGE_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local ids = {%(ids)s}
request = function()
  local path = "/api/v1/tickets/" .. ids[math.random(#ids)] .. "/messages"
  local body = '{"body":"您好，工程师明天上午上门，请保持电话畅通。","kind":"reply"}'
  return wrk.format(nil, path, nil, body)
end
"""


def _tokens(url: str) -> dict[str, str]:
    """Fresh API tokens for the admin and a team-scoped agent (made through the service)."""
    migrate.load_models()
    engine = make_engine(url, pool_size=1)
    _, writer = make_sessionmakers(engine)
    tokens = {}
    with transaction(writer) as session:
        for who in ("admin", TEAM_AGENT):
            user_id = session.scalar(select(User.id).where(User.username == who))
            assert user_id is not None, f"the dataset has no user {who}"
            plain, _ = access.create_token(
                session, actor=Principal.system(), user_id=user_id, name="bench", scopes=["*"]
            )
            tokens[who] = plain
    engine.dispose()
    return tokens


def _open_ticket_ids(url: str, limit: int = 2000) -> list[int]:
    engine = make_engine(url, pool_size=1)
    reader, _ = make_sessionmakers(engine)
    with transaction(reader) as session:
        ids = list(
            session.scalars(
                select(Ticket.id)
                .where(Ticket.is_open.is_(True))
                .order_by(Ticket.id.desc())
                .limit(limit)
            )
        )
    engine.dispose()
    return ids


class RssSampler:
    """Peak resident memory of the server and each of its worker processes."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                root = psutil.Process(self.pid)
                for proc in [root, *root.children(recursive=True)]:
                    rss = proc.memory_info().rss
                    self.peak[proc.pid] = max(self.peak.get(proc.pid, 0), rss)
            except psutil.Error:
                continue

    def report(self) -> dict[str, float]:
        mb = {pid: rss / 2**20 for pid, rss in self.peak.items()}
        workers = [v for pid, v in mb.items() if pid != self.pid]
        return {
            "supervisor_mb": round(mb.get(self.pid, 0.0), 1),
            "worker_max_mb": round(max(workers, default=0.0), 1),
            "workers": len(workers),
        }


@contextmanager
def server(target: dataset.Target, port: int, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    """`fuwu serve --workers N --no-worker` on 127.0.0.1, stopped (its own group) afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUWU_")}
    env.update(
        FUWU_DATABASE_URL=target.url, FUWU_DATA_DIR=str(target.data_dir), FUWU_ENV="development"
    )
    fuwu = Path(sys.executable).parent / "fuwu"
    log = (target.data_dir / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            str(fuwu),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-worker",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited; see {target.data_dir / 'server.log'}")
            time.sleep(0.3)
        else:
            raise RuntimeError("the server did not answer /healthz within 60 s")
        time.sleep(1.0)  # let both workers finish starting
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the group of the server we started, nothing else
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def _db_cpu(database: str | None) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving `database` (their process
    titles name it) and by the WAL writer; 0 without a database. Other databases on the
    same server (other people's test runs) are not counted."""
    if database is None:
        return 0.0
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if not (proc.info["name"] or "").startswith("postgres"):
            continue
        try:
            title = " ".join(proc.cmdline())
            if f" {database} " in title or title.endswith("walwriter"):
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def _server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server and its workers (user + system)."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
    except psutil.Error:
        pass
    return total


def wrk(
    port: int,
    script: str,
    *,
    connections: int,
    seconds: int,
    pid: int | None = None,
    database: str | None = None,
) -> dict[str, Any]:
    """Run wrk with a Lua script; requests/s, latency percentiles in ms, server CPU per request."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the load: apt-get install -y wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as fh:
        fh.write(script + WRK_DONE)
        path = fh.name
    cpu_before = _server_cpu(pid) if pid else 0.0
    db_before = _db_cpu(database)
    load_before = os.getloadavg()[0]
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                path,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(path)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    ok = raw["requests"] - raw["status_errors"]
    cpu = (_server_cpu(pid) - cpu_before) if pid else 0.0
    db_cpu = _db_cpu(database) - db_before
    return {
        "server_cpu_ms_per_request": round(cpu * 1000 / max(raw["requests"], 1), 2),
        "db_cpu_ms_per_request": round(db_cpu * 1000 / max(raw["requests"], 1), 2),
        "load_avg_1m_before": round(load_before, 2),
        "connections": connections,
        "requests": raw["requests"],
        "errors": raw["status_errors"] + raw["connect_errors"] + raw["timeouts"],
        "per_s": round(ok / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50"] / 1000,
        "p95_ms": raw["p95"] / 1000,
        "p99_ms": raw["p99"] / 1000,
    }


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def inbox(port: int, token: str, *, first_pages: int, depth: int, walks: int) -> dict[str, Any]:
    """First-page latency, and per-page latency while following cursors `depth` pages deep."""
    headers = {"Authorization": f"Bearer {token}"}
    first: list[float] = []
    by_page: dict[int, list[float]] = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
        for _ in range(5):  # warm-up
            client.get(INBOX).raise_for_status()
        for _ in range(first_pages):
            t0 = time.perf_counter()
            client.get(INBOX).raise_for_status()
            first.append((time.perf_counter() - t0) * 1000)
        for _ in range(walks):
            cursor: str | None = None
            for page in range(1, depth + 1):
                url = INBOX + (f"&cursor={cursor}" if cursor else "")
                t0 = time.perf_counter()
                resp = client.get(url)
                resp.raise_for_status()
                by_page.setdefault(page, []).append((time.perf_counter() - t0) * 1000)
                cursor = resp.json()["next_cursor"]
                if cursor is None:
                    break
    shallow = [v for p, vs in by_page.items() if p <= 5 for v in vs]
    deep = [v for p, vs in by_page.items() if p > max(by_page) - 5 for v in vs]
    return {
        "first_p50_ms": _pct(first, 0.5),
        "first_p95_ms": _pct(first, 0.95),
        "deepest_page": max(by_page, default=0),
        "pages_1_5_p50_ms": _pct(shallow, 0.5),
        "pages_1_5_p95_ms": _pct(shallow, 0.95),
        "last_5_pages_p50_ms": _pct(deep, 0.5),
        "last_5_pages_p95_ms": _pct(deep, 0.95),
        "all_pages_mean_ms": round(statistics.fmean(v for vs in by_page.values() for v in vs), 2),
    }


def run_one(target: dataset.Target, args: argparse.Namespace) -> dict[str, Any]:
    if args.rebuild or not dataset.exists(target):
        print(f"building dataset {target.kind} {target.size} …", flush=True)
        dataset.build(target)
    migrate.upgrade(target.url)  # a dataset built by older code gets the newer migrations
    built = json.loads(target.marker.read_text())
    tokens = _tokens(target.url)
    result: dict[str, Any] = {"db": target.kind, "size": target.size, "dataset": built}
    database = target.name if target.kind == "postgresql" else None
    with server(target, args.port, args.workers) as proc, RssSampler(proc.pid) as rss:
        if args.only in ("all", "inbox"):
            _inbox_runs(result, args, tokens, proc.pid)
        if args.only in ("all", "create"):
            _create_runs(result, args, tokens, built, (proc.pid, database))
        if args.only in ("all", "message"):
            ids = _open_ticket_ids(target.url)
            message = MESSAGE_LUA % {"token": tokens["admin"], "ids": ",".join(map(str, ids))}
            result["message_c8"] = wrk(
                args.port, message, connections=8, seconds=args.seconds, pid=proc.pid,
                database=database,
            )  # fmt: skip
        if args.only in ("all", "inbox"):
            result["inbox_admin_after"] = inbox(
                args.port, tokens["admin"], first_pages=args.first_pages, depth=5, walks=1
            )
    result["rss"] = rss.report()
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if args.only == "all" else f"-{args.only}"
    (RESULTS / f"{target.kind}-{target.size}{suffix}.json").write_text(json.dumps(result, indent=2))
    return result


def _inbox_runs(
    result: dict[str, Any], args: argparse.Namespace, tokens: dict[str, str], pid: int
) -> None:
    for key, who in (("inbox_admin", "admin"), ("inbox_agent", TEAM_AGENT)):
        result[key] = inbox(
            args.port, tokens[who], first_pages=args.first_pages, depth=args.depth, walks=args.walks
        )
    inbox_lua = INBOX_LUA % {"token": tokens["admin"], "path": INBOX}
    result["inbox_admin_c2"] = wrk(
        args.port, inbox_lua, connections=2, seconds=args.seconds, pid=pid
    )


def _create_runs(
    result: dict[str, Any],
    args: argparse.Namespace,
    tokens: dict[str, str],
    built: dict[str, Any],
    measured: tuple[int, str | None],
) -> None:
    """Create at 1 and 8 connections; with --repeat N, the run with the median rate of N."""
    pid, database = measured
    contacts = max(built["tickets"] // 10, 100)
    create = CREATE_LUA % {"token": tokens["admin"], "contacts": contacts, "teams": dataset.TEAMS}
    if args.only == "create":  # no inbox runs before: warm both workers up first
        wrk(args.port, create, connections=4, seconds=2, pid=pid)
    for connections in (1, 8):
        runs = [
            wrk(
                args.port,
                create,
                connections=connections,
                seconds=args.seconds,
                pid=pid,
                database=database,
            )
            for _ in range(args.repeat)
        ]
        runs.sort(key=lambda r: r["per_s"])
        result[f"create_c{connections}"] = runs[len(runs) // 2]
        if args.repeat > 1:
            result[f"create_c{connections}_runs"] = runs


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table, one column per database and size."""
    rows = [
        ("create c=1, tickets/s", lambda r: r["create_c1"]["per_s"]),
        ("create c=1, p50 / p95 / p99 ms", lambda r: _trio(r["create_c1"])),
        ("create c=8, tickets/s", lambda r: r["create_c8"]["per_s"]),
        ("create c=8, p50 / p95 / p99 ms", lambda r: _trio(r["create_c8"])),
        ("inbox admin, first page p50 / p95 ms", lambda r: _duo(r["inbox_admin"], "first")),
        ("inbox admin, pages 1–5 p50 / p95 ms", lambda r: _duo(r["inbox_admin"], "pages_1_5")),
        (
            "inbox admin, last 5 pages p50 / p95 ms",
            lambda r: _duo(r["inbox_admin"], "last_5_pages"),
        ),
        ("inbox agent (team), first page p50 / p95 ms", lambda r: _duo(r["inbox_agent"], "first")),
        (
            "inbox agent (team), last 5 pages p50 / p95 ms",
            lambda r: _duo(r["inbox_agent"], "last_5_pages"),
        ),
        ("inbox admin first page, wrk c=2, pages/s", lambda r: r["inbox_admin_c2"]["per_s"]),
        (
            "inbox admin first page, server CPU ms/page",
            lambda r: r["inbox_admin_c2"]["server_cpu_ms_per_request"],
        ),
        ("deepest page reached", lambda r: r["inbox_admin"]["deepest_page"]),
        ("message add c=8, ops/s", lambda r: r["message_c8"]["per_s"]),
        (
            "message add c=8, p50 / p95 ms",
            lambda r: f"{r['message_c8']['p50_ms']:.1f} / {r['message_c8']['p95_ms']:.1f}",
        ),
        ("create c=1, server CPU ms/ticket", lambda r: r["create_c1"]["server_cpu_ms_per_request"]),
        ("create c=8, server CPU ms/ticket", lambda r: r["create_c8"]["server_cpu_ms_per_request"]),
        ("create c=1, PostgreSQL CPU ms/ticket", lambda r: _db_cell(r, "create_c1")),
        ("create c=8, PostgreSQL CPU ms/ticket", lambda r: _db_cell(r, "create_c8")),
        (
            "message add c=8, server CPU ms/op",
            lambda r: r["message_c8"]["server_cpu_ms_per_request"],
        ),
        ("load average (1 min) before create c=8", lambda r: r["create_c8"]["load_avg_1m_before"]),
        (
            "errors (non-2xx, all runs)",
            lambda r: sum(
                r[k]["errors"] for k in ("create_c1", "create_c8", "message_c8") if k in r
            ),
        ),
        ("peak RSS per server worker, MB", lambda r: r["rss"]["worker_max_mb"]),
    ]
    head = "| | " + " | ".join(f"{r['db']} {r['size']}" for r in results) + " |"
    sep = "|---|" + "---|" * len(results)
    body = [
        "| " + name + " | " + " | ".join(_cell(f, r) for r in results) + " |"
        for name, f in rows
        if any(_cell(f, r) != "–" for r in results)
    ]
    return "\n".join([head, sep, *body])


def _db_cell(r: dict[str, Any], key: str) -> Any:
    return r[key]["db_cpu_ms_per_request"] if r["db"] == "postgresql" else "–"


def _cell(f: Any, r: dict[str, Any]) -> str:
    try:
        return str(f(r))
    except KeyError:  # not measured in this run (--only)
        return "–"


def _trio(r: dict[str, Any]) -> str:
    return f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} / {r['p99_ms']:.1f}"


def _duo(r: dict[str, Any], key: str) -> str:
    return f"{r[f'{key}_p50_ms']:.1f} / {r[f'{key}_p95_ms']:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description="fuwu benchmarks")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--size", choices=(*dataset.SIZES, "all"), default=None)
    parser.add_argument("--quick", action="store_true", help="10k tickets, 3 s runs, 10 pages deep")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the dataset even if present"
    )
    parser.add_argument("--seconds", type=int, default=None, help="duration of each wrk run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--only", choices=("all", "create", "inbox", "message"), default="all", help="one part"
    )
    parser.add_argument("--repeat", type=int, default=1, help="create runs per concurrency")
    parser.add_argument("--port", type=int, default=8917)
    args = parser.parse_args()
    args.size = args.size or ("10k" if args.quick else "100k")
    args.seconds = min(args.seconds or (3 if args.quick else 15), 120)
    args.depth, args.walks, args.first_pages = (10, 1, 30) if args.quick else (50, 3, 200)
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    sizes = ("100k", "1m") if args.size == "all" else (args.size,)
    results = [run_one(dataset.Target(k, s), args) for s in sizes for k in kinds]
    print(table(results))


if __name__ == "__main__":
    main()
