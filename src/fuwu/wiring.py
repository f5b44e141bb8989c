"""What every process of fuwu registers before it works: the models' metadata, the entities
that carry custom fields (with where their forms and views use a field), the job handlers.

The app (`create_app`), the CLI and the worker call `register()`; nothing registers itself as
a side effect of an import. Calling it again changes nothing.
"""

from __future__ import annotations

from fuwu import migrate, tasks
from fuwu.customers import fields as customers_fields
from fuwu.tickets import fields as tickets_fields


def register() -> None:
    """Register everything a process needs, in dependency order."""
    migrate.load_models()
    tasks.register_all()
    tickets_fields.register()
    customers_fields.register()
