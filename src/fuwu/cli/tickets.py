"""`fuwu ticket`: open and change tickets from scripts and the shell, as the system, through
the same change pipeline as every other entry point (forms, deciders, history, audit)."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import select

from fuwu.auth.principal import Principal
from fuwu.cli.support import fail, load_settings, writer_for
from fuwu.db import transaction
from fuwu.errors import DomainError, NotFound
from fuwu.tickets import service as tickets_service
from fuwu.tickets.models import Ticket
from fuwu.tickets.schemas import TicketCreate, TicketUpdate
from fuwu.workflows import statuses

Schema = TypeVar("Schema", TicketCreate, TicketUpdate)
app = typer.Typer(help="Open and change tickets.", no_args_is_help=True)

Sets = Annotated[
    list[str] | None,
    typer.Option("--set", help="a custom field: KEY=VALUE (VALUE as JSON when it parses); repeat"),
]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="repeat for several")]


@app.command("create")
def create(
    subject: Annotated[str, typer.Option(help="what it is about")],
    description: Annotated[str, typer.Option(help="the details")] = "",
    type_: Annotated[str, typer.Option("--type", help="ticket type key")] = "general",
    priority: Annotated[str, typer.Option(help="low, normal, high or urgent")] = "normal",
    channel: Annotated[str, typer.Option(help="how it came in")] = "api",
    customer_email: Annotated[str | None, typer.Option(help="found or created")] = None,
    customer_phone: Annotated[str | None, typer.Option(help="found or created")] = None,
    customer_name: Annotated[str | None, typer.Option(help="for a new customer")] = None,
    team: Annotated[int | None, typer.Option(help="team id")] = None,
    assignee: Annotated[int | None, typer.Option(help="user id")] = None,
    tag: Tags = None,
    set_: Sets = None,
) -> None:
    """Open a ticket; prints its number and id."""
    customer = None
    if customer_email or customer_phone or customer_name:
        customer = {"email": customer_email, "phone": customer_phone, "name": customer_name}
    data = _parsed(
        TicketCreate,
        {"subject": subject, "description": description, "type": type_, "priority": priority,
         "channel": channel, "customer": customer, "team_id": team, "assignee_id": assignee,
         "tags": tag or [], "custom": _custom(set_)},
    )  # fmt: skip
    settings = load_settings()
    try:
        with transaction(writer_for(settings)) as session:
            row = tickets_service.create_ticket(
                session, actor=Principal.system(), data=data,
                number_pattern=settings.ticket_number_pattern, timezone=settings.timezone,
            )  # fmt: skip
    except DomainError as exc:
        fail(exc)
    typer.echo(f"{row.number} (id {row.id})")


@app.command("update")
def update(
    ticket: Annotated[str, typer.Argument(help="the ticket's number or id")],
    status: Annotated[
        str | None,
        typer.Option(help="a status key (fuwu statuses: new, open …)"),
    ] = None,
    priority: Annotated[str | None, typer.Option(help="low, normal, high or urgent")] = None,
    team: Annotated[int | None, typer.Option(help="team id (0: none)")] = None,
    assignee: Annotated[int | None, typer.Option(help="user id (0: nobody)")] = None,
    tag: Tags = None,
    set_: Sets = None,
) -> None:
    """Change a ticket; prints its number and new version, or that nothing changed."""
    asked: dict[str, Any] = {"status": status, "priority": priority}
    asked = {k: v for k, v in asked.items() if v is not None}
    for name, value in (("team_id", team), ("assignee_id", assignee)):
        if value is not None:
            asked[name] = value or None
    if tag is not None:
        asked["tags"] = tag
    if set_:
        asked["custom"] = _custom(set_)
    data = _parsed(TicketUpdate, asked)
    settings = load_settings()
    try:
        with transaction(writer_for(settings)) as session:
            if data.status is not None:
                statuses.require_known(session, data.status)
            found = session.execute(
                select(Ticket.id, Ticket.version).where(
                    (Ticket.number == ticket) | (Ticket.id == _as_id(ticket))
                )
            ).first()
            if found is None:
                raise NotFound("Ticket %(id)s does not exist.", id=ticket)
            ticket_id, before = found
            changed = tickets_service.update_ticket(
                session, actor=Principal.system(), ticket_id=ticket_id, data=data,
                timezone=settings.timezone,
            )  # fmt: skip
            number, version = changed.number, changed.version
    except DomainError as exc:
        fail(exc)
    typer.echo(f"{number} version {version}" if version != before else f"{number} unchanged")


def _as_id(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 10 else 0


def _custom(pairs: list[str] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            typer.echo(f"error: --set {pair!r}: expected KEY=VALUE", err=True)
            raise typer.Exit(2)
        try:
            values[key.strip()] = json.loads(raw)
        except ValueError:
            values[key.strip()] = raw
    return values


def _parsed(model: type[Schema], values: dict[str, Any]) -> Schema:
    """The options as the API's schema reads them; bad ones named as the API names them."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            typer.echo(f"error: {where}: {err['msg']}", err=True)
        raise typer.Exit(2) from exc
