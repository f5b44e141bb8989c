"""HTML routes of the form engine for administrators: fields, ticket types, the form designer.

`router` is what app.py mounts; each page lives in its own module.
"""

from __future__ import annotations

from fastapi import APIRouter

from fuwu.fields import views_designer, views_fields, views_forms, views_logic

router = APIRouter(include_in_schema=False)
for _page in (views_fields, views_forms, views_designer, views_logic):
    router.include_router(_page.router)
