"""The workflow editor's "move open tickets to the newest version" part (`tickets.migration`):
a preview with a status to pick for each status the new version lacks, then applying it. It
lives with tickets, which it moves; the editor page loads it by htmx."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from fuwu.auth.deps import Csrf, UiAdmin
from fuwu.errors import ValidationFailed
from fuwu.tickets import migration
from fuwu.tickets.pipeline import Where
from fuwu.web.deps import DbSession, client_ip
from fuwu.web.errors import describe, locale_of
from fuwu.web.forms import Posted
from fuwu.web.templating import render
from fuwu.workflows import service as workflows
from fuwu.workflows import statuses

router = APIRouter(include_in_schema=False)
Key = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


def _answer(
    request: Request,
    session: DbSession,
    key: str,
    done: migration.Migrated,
    moved: int,
    mapping: dict[str, str],
) -> Response:
    target = workflows.current(session, key)
    catalogue = statuses.catalogue(session)
    locale = locale_of(request)
    problems = []
    if done.plan.problems:
        problems = describe(locale, ValidationFailed(list(done.plan.problems)))["fields"]
    context = {
        "key": key, "done": done, "moved": moved, "problems": problems, "mapping": mapping,
        "unmapped": [p["field"].removeprefix("mapping.") for p in done.plan.problems],
        "targets": target.definition.statuses if target else [],
        "status_label": lambda s: catalogue.label(s, locale),
    }  # fmt: skip
    return render(request, "workflows/_migration.html", context)


@router.get("/admin/workflows/{key}/migration")
def migration_preview(key: Key, request: Request, session: DbSession, me: UiAdmin) -> Response:
    done = migration.migrate(session, actor=me, key=key, mapping={}, apply=False,
                             where=Where(timezone=request.app.state.settings.timezone))  # fmt: skip
    return _answer(request, session, key, done, moved=0, mapping={})


@router.post("/admin/workflows/{key}/migration", dependencies=[Csrf])
def migration_apply(
    key: Key, request: Request, session: DbSession, me: UiAdmin, form: Posted
) -> Response:
    """Preview with the statuses picked, or (`apply`) move the tickets."""
    mapping = {
        name.removeprefix("map."): str(value)
        for name, value in form.multi_items()
        if name.startswith("map.") and value
    }
    apply = form.get("apply") == "1"
    where = Where(timezone=request.app.state.settings.timezone, ip=client_ip(request))
    done = migration.migrate(session, actor=me, key=key, mapping=mapping, apply=apply, where=where)
    if not apply:
        return _answer(request, session, key, done, moved=0, mapping=mapping)
    session.flush()
    after = migration.migrate(session, actor=me, key=key, mapping={}, apply=False, where=where)
    return _answer(request, session, key, after, moved=done.moved, mapping={})
