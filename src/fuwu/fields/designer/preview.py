"""The designer's live preview: sample values → form logic → the inputs to draw.

The admin types sample values into a surface's form; they are read like real submissions
(`render.parse_posted`), the draft's logic runs over them and the surface is drawn again by
the same renderer the ticket pages use: hidden fields disappear, required ones get a star,
read-only ones are disabled and restricted choices shrink.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from fuwu.fields.forms import render
from fuwu.fields.forms.compile import Form
from fuwu.fields.forms.render import Input, SectionView
from fuwu.fields.forms.validation import FormState
from fuwu.fields.registry.entities import SystemField

__all__ = ["Input", "Preview", "run", "sample"]


@dataclass
class Preview:
    """A surface drawn for some sample values."""

    sections: list[SectionView]
    state: FormState
    values: dict[str, Any]
    hidden: list[str] = field(default_factory=list)  # labels of the fields logic hides here


def sample(
    form: Form,
    system: Mapping[str, SystemField],
    surface: str,
    posted: FormData | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(custom values typed, the system values typed) for the keys of a surface."""
    if posted is None:
        return {}, {}
    custom = render.parse_posted(form, surface, posted, keep_read_only=True)
    own = {
        k: v.strip()
        for k in form.keys(surface)
        if k in system and isinstance(v := posted.get(k), str) and v.strip()
    }
    return custom, own


def run(
    form: Form,
    system: Mapping[str, SystemField],
    surface: str,
    posted: FormData | None,
    *,
    variables: Mapping[str, Any],
    locale: str,
    translate: Any = None,  # kept for callers; the renderer translates by locale
) -> Preview:
    """Evaluate the logic over the posted samples and build the surface's inputs."""
    custom, own = sample(form, system, surface, posted)
    sections = render.render(
        form, surface, custom, locale=locale, system=own, variables=variables,
        system_fields_=system,
    )  # fmt: skip
    state, _ = render.state_of(form, custom, system=own, variables=variables, system_fields_=system)
    hidden = [render.label_of(form, system, k, locale) for k in form.keys(surface)
              if k in state.hidden]  # fmt: skip
    return Preview(sections=sections, state=state, values=custom, hidden=hidden)
