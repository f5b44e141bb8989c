"""JSON Schemas of each ticket type's `custom` object, for the OpenAPI document.

The published forms change at run time, so these parts are added to a cached base document on
every request for it; they describe what `POST /api/v1/tickets` accepts for each type.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fuwu.tickets.types import service as ticket_types

REF = "#/components/schemas/{model}"


def custom_schemas(session: Session, timezone: str) -> dict[str, dict[str, Any]]:
    """Component name → schema, one `TicketCustom_<type>` per type with a published form."""
    found: dict[str, dict[str, Any]] = {}
    for row in ticket_types.list_types(session):
        form = ticket_types.form(session, row.key, timezone)
        if form is None:
            continue
        schema = form.model("agent_create").model_json_schema(ref_template=REF)
        found.update(schema.pop("$defs", {}))
        schema["title"] = f"Custom fields of {row.name.get('en') or row.key} ({row.key})"
        schema["description"] = (
            f"The `custom` object for `type: {row.key}`, form version {form.version}. "
            "Required fields depend on form logic and are checked on save."
        )
        for key, spec in form.specs.items():
            prop = schema.get("properties", {}).get(key)
            if prop is not None:
                prop["title"] = spec.text("en")
                prop["x-label-zh"] = spec.label.get("zh_CN", "")
                prop["x-field-type"] = spec.type
        found[f"TicketCustom_{row.key}"] = schema
    return found
