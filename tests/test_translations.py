"""The Spanish catalog is complete, and its compiled file matches it."""

import gettext
import re
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[1] / "locale" / "es" / "LC_MESSAGES"


def _unquote(lines: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', lines)
    return "".join(parts).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _entries() -> list[tuple[str | None, str, str]]:
    """Return (context, msgid, msgstr) for each message; msgstr[0] for plural ones."""
    entries = []
    for block in CATALOG.joinpath("django.po").read_text(encoding="utf-8").split("\n\n")[1:]:
        context = re.search(r'^msgctxt ((?:".*"\n?)+)', block, re.M)
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if msgid and msgstr:
            entries.append(
                (context and _unquote(context.group(1)), _unquote(msgid.group(1)), _unquote(msgstr.group(1)))
            )
    return entries


def test_spanish_catalog_has_no_empty_translation():
    untranslated = [msgid for _, msgid, msgstr in _entries() if not msgstr]

    assert untranslated == []


def test_compiled_catalog_matches_source():
    with CATALOG.joinpath("django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    stale = [
        msgid
        for context, msgid, msgstr in _entries()
        if (compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)) != msgstr
    ]

    assert len(_entries()) > 100
    assert stale == []
