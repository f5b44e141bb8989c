"""Every string a user can see has a Chinese translation, and the catalogues are well formed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from fuwu.db import transaction
from fuwu.errors import FIELD_LABELS, FIELD_MESSAGES
from fuwu.kit.i18n import LOCALE_DIR, catalogue, gettext, negotiate
from fuwu.workflows import statuses

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "fuwu" / "web" / "templates"
# {{ _("text") }} / _('text') in templates, also inside tag attributes and lists.
CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")


def template_strings() -> set[str]:
    found: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) or match.group(2))
    return found


def test_templates_use_the_translator() -> None:
    assert len(template_strings()) > 30


@pytest.mark.parametrize("text", sorted(template_strings()))
def test_every_template_string_has_chinese(text: str) -> None:
    assert catalogue("zh_CN").get(text), f"no zh_CN translation for template string {text!r}"


@pytest.mark.parametrize("text", sorted({*FIELD_MESSAGES.values(), *FIELD_LABELS.values()}))
def test_every_error_message_and_label_has_chinese(text: str) -> None:
    translated = catalogue("zh_CN").get(text)
    assert translated, f"no zh_CN translation for {text!r}"
    placeholders = re.compile(r"%\((\w+)\)s")
    assert set(placeholders.findall(translated)) == set(placeholders.findall(text))


def test_catalogues_parse_and_do_not_contradict_each_other() -> None:
    seen: dict[str, tuple[str, str]] = {}
    files = sorted((LOCALE_DIR / "zh_CN" / "LC_MESSAGES").glob("*.po"))
    assert files
    for path in files:
        with path.open("rb") as handle:
            cat = read_po(handle, locale="zh_CN")
        for message in cat:
            if not message.id:
                continue
            msgid, msgstr = str(message.id), str(message.string)
            if msgid in seen and seen[msgid][1] != msgstr:
                first_file, first = seen[msgid]
                pytest.fail(f"{msgid!r}: {first_file} says {first!r}, {path.name} says {msgstr!r}")
            seen[msgid] = (path.name, msgstr)


def test_placeholders_are_filled_in_both_languages() -> None:
    en = gettext("en", "Ticket %(id)s does not exist.", id=42)
    zh = gettext("zh_CN", "Ticket %(id)s does not exist.", id=42)
    assert en == "Ticket 42 does not exist."
    assert "42" in zh
    assert zh != en


def test_status_labels_exist_in_both_languages(app) -> None:
    """The seeded statuses (migration 0010) carry a Chinese and an English name."""
    with transaction(app.state.reader) as session:
        seeded = list(statuses.catalogue(session).statuses.values())
    assert [s.key for s in seeded] == ["new", "open", "pending", "resolved", "closed"]
    for status in seeded:
        assert status.label_en
        assert status.label_zh
        assert status.label_en != status.label_zh


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5", "en"),
        ("de-DE", "zh_CN"),
        ("en;q=0.2, zh-TW;q=0.8", "zh_CN"),
        ("", "zh_CN"),
        ("en;q=bogus", "en"),
    ],
)
def test_browser_language_is_negotiated(header: str, expected: str) -> None:
    assert negotiate(header, "zh_CN") == expected
