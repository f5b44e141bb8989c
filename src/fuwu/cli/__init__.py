"""The `fuwu` command: serve, worker, migrate, demo, createadmin, token, ticket."""

from __future__ import annotations

import logging
import os
import signal
import sys
from types import FrameType
from typing import Annotated

import typer
from pydantic import ValidationError

from fuwu import migrate as migrations
from fuwu.auth import access
from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.auth.schemas import UserCreate
from fuwu.cli import tickets as tickets_cli
from fuwu.cli.support import fail, load_settings, writer_for
from fuwu.db import transaction
from fuwu.errors import DomainError
from fuwu.jobs.worker import Worker

app = typer.Typer(
    help="fuwu — customer service management.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(tickets_cli.app, name="ticket")


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Bring the database schema up to date (or to REVISION; 'base' empties it with downgrade)."""
    settings = load_settings()
    if revision == "base" or revision.startswith("-"):
        migrations.downgrade(settings.db_url, revision)
    else:
        migrations.upgrade(settings.db_url, revision)
    typer.echo(f"database at {revision}: {_redact(settings.db_url)}")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}"
    return url


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="server processes")] = 1,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="do not run jobs in this process")
    ] = False,
) -> None:
    """Serve the web UI and the API (with a job worker thread inside unless --no-worker)."""
    import uvicorn

    settings = load_settings()
    if no_worker:
        os.environ["FUWU_EMBEDDED_WORKER"] = "false"
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        "fuwu.asgi:app",
        host=host,
        port=port,
        workers=workers,
        factory=False,
        proxy_headers=True,
        log_level="info",
        access_log=False,
    )
    del settings


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="run until nothing is due, then exit")] = False,
) -> None:
    """Run background jobs in this process (server and cluster modes)."""
    settings = load_settings()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    writer = writer_for(settings)
    runner = Worker(
        writer, lease_seconds=settings.job_lease_seconds, poll_seconds=settings.worker_poll_seconds
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if once:
        runner.run_until_idle()
    else:
        runner.run_forever()
    writer.kw["bind"].dispose()  # the engine writer_for made


@app.command()
def createadmin(
    username: Annotated[str | None, typer.Option(help="login name")] = None,
    email: Annotated[str | None, typer.Option(help="email address")] = None,
    password: Annotated[str | None, typer.Option(help="password (asked when missing)")] = None,
    name: Annotated[str | None, typer.Option(help="display name")] = None,
) -> None:
    """Create an administrator; asks for what is missing unless all is given."""
    settings = load_settings()
    username = username or typer.prompt("Username")
    email = email or typer.prompt("Email", default="", show_default=False) or None
    password = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    writer = writer_for(settings)
    try:
        data = UserCreate(
            username=username,
            display_name=name or username,
            email=email,
            role="admin",
            password=password,
        )
        with transaction(writer) as session:
            user = auth_service.create_user(session, actor=Principal.system(), data=data)
            typer.echo(f"created admin {user.username} (id {user.id})")
    except ValidationError as exc:
        for err in exc.errors():
            typer.echo(f"error: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}", err=True)
        raise typer.Exit(1) from exc
    except DomainError as exc:
        fail(exc)


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="username the token acts as")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="repeat for several; default all")
    ] = None,
    name: Annotated[str, typer.Option(help="a label for the token")] = "cli",
) -> None:
    """Print a new API token for USER (shown once; only its hash is stored)."""
    settings = load_settings()
    writer = writer_for(settings)
    try:
        with transaction(writer) as session:
            found = auth_service.get_user_by_username(session, user)
            if found is None:
                typer.echo(f"error: no user named {user!r}", err=True)
                raise typer.Exit(1)
            plain, _token = access.create_token(
                session,
                actor=Principal.system(),
                user_id=found.id,
                name=name,
                scopes=scope or ["*"],
            )
    except DomainError as exc:
        fail(exc)
    typer.echo(plain)


@app.command()
def demo(
    tickets: Annotated[int, typer.Option(help="how many tickets")] = 2000,
    days: Annotated[int, typer.Option(help="spread over this many days")] = 90,
) -> None:
    """Load the demo company (only into an empty database) and print how to sign in."""
    from fuwu.demo import loader

    settings = load_settings()
    writer = writer_for(settings)
    with transaction(writer) as session:
        if not loader.is_empty(session):
            typer.echo("demo data already loaded (the database is not empty); nothing changed")
            return
        summary = loader.load(session, settings=settings, tickets=tickets, days=days)
    typer.echo(summary)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
