"""The Spanish catalog is complete, and its compiled file matches it."""

import gettext
import re
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[1] / "locale" / "es" / "LC_MESSAGES"


def _unquote(lines: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', lines)
    return "".join(parts).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _entries() -> list[tuple[str, str]]:
    entries = []
    for block in CATALOG.joinpath("django.po").read_text(encoding="utf-8").split("\n\n")[1:]:
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if msgid and msgstr:
            entries.append((_unquote(msgid.group(1)), _unquote(msgstr.group(1))))
    return entries


def test_spanish_catalog_has_no_empty_translation():
    untranslated = [msgid for msgid, msgstr in _entries() if not msgstr]

    assert untranslated == []


def test_compiled_catalog_matches_source():
    with CATALOG.joinpath("django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    stale = [msgid for msgid, msgstr in _entries() if compiled.gettext(msgid) != msgstr]

    assert len(_entries()) > 100
    assert stale == []
