"""Translations: zh_CN catalogue read from its .po file at start; English is the source text."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@cache
def catalogue(locale: str) -> dict[str, str]:
    """msgid → msgstr for a locale; empty for English (the msgids are English)."""
    if locale == "en":
        return {}
    found: dict[str, str] = {}
    # One .po file per area (messages.po, tickets.po, admin.po …), merged in name order.
    for path in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            cat = read_po(handle, locale=locale)
        found.update({str(m.id): str(m.string) for m in cat if m.id and m.string and not m.fuzzy})
    return found


def gettext(locale: str, message: str, **params: Any) -> str:
    """Translate and fill %(name)s placeholders."""
    text = catalogue(locale).get(message, message)
    return text % params if params else text


def negotiate(accept_language: str | None, default: str = "zh_CN") -> str:
    """Pick zh_CN or en from an Accept-Language header."""
    if not accept_language:
        return default
    ranked: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        lang, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((weight, lang.strip().lower()))
    for _, lang in sorted(ranked, key=lambda item: -item[0]):
        if lang.startswith("zh"):
            return "zh_CN"
        if lang.startswith("en"):
            return "en"
    return default


class Translator:
    """A gettext-style object for Jinja2's i18n extension."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._cat = catalogue(locale)

    def gettext(self, message: str) -> str:
        return self._cat.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)
