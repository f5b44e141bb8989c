"""The ASGI application: create_app(settings) wires settings, database, routes and the worker."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.responses import HTMLResponse, JSONResponse

from fuwu import wiring
from fuwu.auth import admin_views as auth_admin_views
from fuwu.auth import api as auth_api
from fuwu.auth import deps as auth_deps
from fuwu.auth import profile_views as auth_profile_views
from fuwu.auth import views as auth_views
from fuwu.channels import webform_views as channels_webform_views
from fuwu.config import Settings
from fuwu.customers import api as customers_api
from fuwu.customers import views as customers_views
from fuwu.customers import views_assets as customers_views_assets
from fuwu.customers import views_lists as customers_views_lists
from fuwu.db import make_engine, make_sessionmakers, ping, transaction
from fuwu.fields.deciders import Decider
from fuwu.fields.designer import views as fields_views
from fuwu.fields.registry import api as fields_api
from fuwu.jobs.worker import Worker
from fuwu.kit.storage import LocalStore
from fuwu.system import api as system_api
from fuwu.system import views as system_views
from fuwu.tickets import api as tickets_api
from fuwu.tickets import approvals_api as tickets_approvals_api
from fuwu.tickets import bulk_api as tickets_bulk_api
from fuwu.tickets import customer_views as tickets_customer_views
from fuwu.tickets import engines as tickets_engines
from fuwu.tickets import migration_api as tickets_migration_api
from fuwu.tickets import saved_views_api as tickets_saved_views_api
from fuwu.tickets import transitions_api as tickets_transitions_api
from fuwu.tickets import views as tickets_views
from fuwu.tickets import views_approvals as tickets_views_approvals
from fuwu.tickets import views_migration as tickets_views_migration
from fuwu.tickets import views_steps as tickets_views_steps
from fuwu.tickets.schemas import MessageCreate, TicketCreate
from fuwu.tickets.types import api as ticket_types_api
from fuwu.tickets.types import openapi as ticket_types_openapi
from fuwu.tickets.types import views as ticket_types_views
from fuwu.tickets.types import views_designer as ticket_types_designer
from fuwu.tickets.types import views_logic as ticket_types_logic
from fuwu.web import errors, security
from fuwu.web import openapi as web_openapi
from fuwu.web.guard import RequestGuardMiddleware
from fuwu.web.security import SecurityHeadersMiddleware
from fuwu.web.templating import WEB_DIR, make_templates
from fuwu.workflows import api as workflows_api
from fuwu.workflows import views as workflows_views

log = logging.getLogger("fuwu")
SWAGGER = "/static/vendor/swagger-ui-5.35.0"
# Routes that take bodies from anonymous callers (sign-in, the public web form): only their size
# is bounded before reading; everything else must show credentials before a large body is read.
PUBLIC_BODY_PREFIXES = ("/login", "/forms/")


def create_app(settings: Settings, *, deciders: tuple[Decider, ...] | None = None) -> FastAPI:
    """Build the app; nothing connects until the first request or the lifespan starts.

    `deciders` take part in every ticket change (default: the installed engines, in order).
    """
    settings = settings.with_secret()
    engine = make_engine(settings.db_url, pool_size=settings.db_pool_size)
    reader, writer = make_sessionmakers(engine, info=tickets_engines.session_info(deciders))
    wiring.register()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker: Worker | None = None
        thread: threading.Thread | None = None
        if settings.embedded_worker:
            worker = Worker(
                writer,
                lease_seconds=settings.job_lease_seconds,
                poll_seconds=settings.worker_poll_seconds,
            )
            thread = threading.Thread(target=worker.run_forever, name="fuwu-worker", daemon=True)
            thread.start()
        yield
        if worker is not None and thread is not None:
            worker.stop()
            thread.join(timeout=10)
        engine.dispose()

    app = FastAPI(
        title="fuwu",
        version="0.1.0",
        description="Customer service management: tickets, people and jobs. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `fuwu token create --user NAME`).",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from vendored files: no CDN, works on an intranet
        redoc_url=None,
        lifespan=lifespan,
        # operationId = the endpoint's name (create_ticket), so generated clients read well
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.reader = reader
    app.state.writer = writer
    app.state.store = LocalStore(settings.attachments_dir)
    app.state.templates = make_templates(settings.timezone)
    app.add_middleware(
        RequestGuardMiddleware,
        json_limit=settings.max_json_bytes,
        upload_limit=settings.upload_request_limit,
        credentials_ok=auth_deps.credentials_ok,
        public_prefixes=PUBLIC_BODY_PREFIXES,
        respond=errors.guard_response,
    )
    app.add_middleware(SecurityHeadersMiddleware, secure=settings.cookies_secure())  # outermost
    errors.install(app)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="fuwu API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )
        page.headers["Content-Security-Policy"] = security.docs_policy(bytes(page.body))
        page.headers["X-Frame-Options"] = "SAMEORIGIN"
        return page

    @app.get("/healthz", tags=["ops"])
    def healthz() -> JSONResponse:
        """No auth; 200 when the database answers."""
        try:
            with transaction(reader) as session:
                ping(session)
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": engine.dialect.name})

    for router in (
        tickets_bulk_api.router,
        tickets_api.router,
        tickets_saved_views_api.router,
        tickets_transitions_api.router,
        tickets_approvals_api.router,
        tickets_migration_api.router,
        workflows_api.router,
        fields_api.router,
        ticket_types_api.router,
        fields_views.router,
        ticket_types_views.router,
        ticket_types_designer.router,
        ticket_types_logic.router,
        channels_webform_views.router,
        auth_api.router,
        customers_api.router,
        system_api.router,
        system_views.router,
        auth_views.router,
        tickets_views.router,
        tickets_views_steps.router,
        tickets_views_approvals.router,
        workflows_views.router,
        tickets_views_migration.router,
        customers_views_lists.router,  # its /…/export.csv before the pages' /…/{id}
        customers_views.router,
        customers_views_assets.router,
        auth_admin_views.router,
        auth_profile_views.router,
        tickets_customer_views.router,
    ):
        app.include_router(router)
    _openapi_with_forms(app, settings)
    return app


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The components a route's `openapi_extra` request body refers to."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {**defs, model.__name__: schema}


def _openapi_with_forms(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI document, plus one schema per ticket type's custom fields (they change at
    run time, so that part is rebuilt on every request for the document)."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        document = copy.deepcopy(base())
        with transaction(app.state.reader) as session:
            extra = ticket_types_openapi.custom_schemas(session, settings.timezone)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(extra)
        for own in (TicketCreate, MessageCreate):  # the routes that validate their own body
            schemas.update(_body_schema(own))
        web_openapi.with_error_answers(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
