"""What every `fuwu` command shares: settings from the environment, a database session with
the engines installed, and errors printed as the API words them."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from fuwu import wiring
from fuwu.config import Settings
from fuwu.db import make_engine, make_sessionmakers
from fuwu.errors import DomainError
from fuwu.tickets import engines as tickets_engines


def load_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            typer.echo(f"error: FUWU_{where.upper()}: {err['msg']}", err=True)
        raise typer.Exit(2) from exc
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def writer_for(settings: Settings) -> sessionmaker[Session]:
    wiring.register()
    engine = make_engine(settings.db_url, pool_size=2)
    return make_sessionmakers(engine, info=tickets_engines.session_info())[1]


def fail(exc: DomainError) -> None:
    detail = getattr(exc, "errors", None)
    typer.echo(f"error: {exc}", err=True)
    if detail:
        # The same readable text the API gives ("Password must have at least 10 characters…");
        # imported here because it pulls in the web stack, which other commands do not need.
        from fuwu.web.errors import field_message

        for e in detail:
            message = field_message("en", e["field"], e["code"], e.get("params") or {})
            typer.echo(f"  {e['field']}: {message}", err=True)
    raise typer.Exit(1)
