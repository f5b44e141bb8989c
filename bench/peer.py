"""fuwu against django-helpdesk 2.6.1: ticket create and reply through each one's API.

    python -m bench.peer                      # 10k tickets each, 3 rounds of 8 s at c=8
    python -m bench.peer --rounds 5 --seconds 10

Both run at the same time on 127.0.0.1 with two worker processes each and PostgreSQL on the
same server: fuwu as `fuwu serve --workers 2`, django-helpdesk under gunicorn (2 sync
workers, persistent connections, DRF token authentication) in its own virtualenv
(bench/peer_site, pinned in its requirements.txt). They are measured alternately — fuwu, then
the peer, for create and then for reply, in each round — so a slow moment of the machine
falls on both; the medians of the rounds are reported with their ratio. A reply is fuwu's
`POST /tickets/{id}/messages` and the peer's `POST /api/followups/` (a public follow-up).
Results go to bench/results/peer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench import dataset
from bench.run import CREATE_LUA, MESSAGE_LUA, RESULTS, _open_ticket_ids, _tokens, server, wrk
from fuwu import migrate

KINDS = ("create", "reply")
ROOT = Path(__file__).resolve().parent.parent
SITE = Path(__file__).resolve().parent / "peer_site"
DATABASE = "fuwu_bench_peer"
PEER_CREATE_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token %(token)s"
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"queue":%(queue)d,"title":"空调不制冷，显示E4故障码 %%d",'
    .. '"description":"客户来电：开机十分钟后停机，室外机不转。",'
    .. '"submitter_email":"customer%%d@example.com","priority":3}',
    n, math.random(1000))
  return wrk.format(nil, "/api/tickets/", nil, body)
end
"""
PEER_REPLY_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token %(token)s"
local ids = {%(ids)s}
request = function()
  local body = '{"ticket":' .. ids[math.random(#ids)]
    .. ',"comment":"您好，工程师明天上午上门，请保持电话畅通。","public":true}'
  return wrk.format(nil, "/api/followups/", nil, body)
end
"""


def _peer_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUWU_", "PYTHON"))}
    env.update(PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="bench.peer_site.settings",
               PEER_DATABASE=DATABASE)  # fmt: skip
    return env


def prepare_peer(venv: Path, tickets: int) -> dict[str, Any]:
    """The peer's venv (made once), database (migrated) and seed; what the load needs."""
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        print(f"installing django-helpdesk into {venv} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "-r", str(SITE / "requirements.txt")], check=True)
        (venv / ".installed").touch()
    admin = dataset._pg_admin()
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": DATABASE})
        if found.first() is None:
            conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    env = _peer_env()
    manage = [str(python), "-m", "django"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], check=True, env=env, cwd=ROOT)
    seeded = subprocess.run(
        [str(python), "-m", "bench.peer_site.seed", "--tickets", str(tickets)],
        check=True, env=env, cwd=ROOT, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(json.loads(seeded.strip().splitlines()[-1]))


@contextmanager
def peer_server(venv: Path, port: int, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    """gunicorn serving the peer site on 127.0.0.1, stopped (its own group) afterwards."""
    log = (dataset.DATA_DIR / "peer-server.log").open("wb")
    command = [str(venv / "bin" / "gunicorn"), "--workers", str(workers), "--bind",
               f"127.0.0.1:{port}", "bench.peer_site.wsgi"]  # fmt: skip
    proc = subprocess.Popen(command, env=_peer_env(), cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/", timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None:
                    raise RuntimeError("the peer exited; see bench/data/peer-server.log") from None
                time.sleep(0.3)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()


def _check(port: int, script: str, pid: int, name: str) -> None:
    """One short run: a server that answers errors would make any figure meaningless."""
    result = wrk(port, script, connections=2, seconds=2, pid=pid)
    if result["errors"] or not result["requests"]:
        raise SystemExit(f"{name} answers errors to the benchmark's requests: {result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", choices=tuple(dataset.SIZES), default="10k")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--venv", type=Path, default=dataset.DATA_DIR / "peer-venv")
    args = parser.parse_args()

    target = dataset.Target("postgresql", args.size)
    if not dataset.exists(target):
        print(f"building dataset {target.kind} {target.size} …", flush=True)
        dataset.build(target)
    migrate.upgrade(target.url)
    token = _tokens(target.url)["admin"]
    built = json.loads(target.marker.read_text())
    peer = prepare_peer(args.venv, dataset.SIZES[args.size])
    contacts = max(built["tickets"] // 10, 100)
    ids = ",".join(map(str, _open_ticket_ids(target.url)))
    peer_ids = ",".join(map(str, peer["ticket_ids"]))
    scripts = {
        ("fuwu", "create"): CREATE_LUA
        % {"token": token, "contacts": contacts, "teams": dataset.TEAMS},
        ("fuwu", "reply"): MESSAGE_LUA % {"token": token, "ids": ids},
        ("peer", "create"): PEER_CREATE_LUA % {"token": peer["token"], "queue": peer["queue"]},
        ("peer", "reply"): PEER_REPLY_LUA % {"token": peer["token"], "ids": peer_ids},
    }
    ports = {"fuwu": 8917, "peer": 8918}
    runs: dict[str, list[dict[str, Any]]] = {f"{w}_{k}": [] for w, k in scripts}
    with server(target, ports["fuwu"], args.workers) as ours, \
            peer_server(args.venv, ports["peer"], args.workers) as theirs:  # fmt: skip
        pids = {"fuwu": ours.pid, "peer": theirs.pid}
        for (who, kind), script in scripts.items():
            _check(ports[who], script, pids[who], f"{who} {kind}")  # also warms both up
        for round_ in range(args.rounds):
            for kind in KINDS:
                for who in ("fuwu", "peer"):
                    database = target.name if who == "fuwu" else DATABASE
                    result = wrk(
                        ports[who], scripts[(who, kind)], connections=8, seconds=args.seconds,
                        pid=pids[who], database=database,
                    )  # fmt: skip
                    runs[f"{who}_{kind}"].append(result)
                    print(f"round {round_ + 1} {who:4} {kind:6} {result['per_s']:7.1f}/s "
                          f"p95 {result['p95_ms']:.1f} ms", flush=True)  # fmt: skip
    report = summary(runs)
    report["machine"] = {"cpus": os.cpu_count(), "size": args.size, "seconds": args.seconds}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "peer.json").write_text(json.dumps({**report, "runs": runs}, indent=2))
    print(json.dumps(report, indent=2))


def summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians per server and kind, and fuwu's ratio to the peer."""
    median = {k: statistics.median(r["per_s"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["server_cpu_ms_per_request"] for r in v) for k, v in runs.items()}
    return {
        "per_s": median,
        "server_cpu_ms": cpu,
        "ratio": {k: round(median[f"fuwu_{k}"] / median[f"peer_{k}"], 2) for k in KINDS},
    }


if __name__ == "__main__":
    main()
