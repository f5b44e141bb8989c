"""The form engine: custom fields on any entity, and the forms that validate and draw them.

Its sub-domains, each importing only those below it (pyproject.toml's import contracts):

- `designer` — the administrator's tools: the field registry's pages and field editor, the
  form designer's edits of a definition and its live preview;
- `forms` — a form compiled once (`compile`), then validated (`validation`, `checks`), drawn
  (`render`), shown as text (`display`), filtered on (`filters`) and exported (`csv_export`),
  parametric in the entity and the surface; customer records' forms (`records`);
- `registry` — which fields exist on which entity, their types, options and cascades, and
  the service that changes them safely;
- `formulas` — the computed-field language;
- `state` and `deciders` — a record's state by registry keys and the interface through
  which the engines take part in each change.

Ticket types, whose forms are versioned documents, belong to tickets (`fuwu.tickets.types`).
"""
