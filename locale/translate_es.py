"""Regenerate the Spanish (Chile) catalog from the code and the translation tables.

    .venv/bin/python locale/translate_es.py

It runs ``manage.py makemessages -l es``, sets the msgstr of every message
found in the tables ``locale/es/*.json`` (one per part of the service, so that
parts can be translated separately), then runs ``compilemessages``. A table
entry is either ``"msgid": "traducción"`` or, for a plural message,
``"msgid": {"plural": "msgid_plural", "translations": ["singular", "plural"]}``;
a message with a context (``pgettext``) has the key ``"context|msgid"``.
A message missing from every table is listed and the script exits with 1; the
test suite fails on a catalog with an empty translation.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent
REPO_ROOT = LOCALE_DIR.parent
PO_FILE = LOCALE_DIR / "es" / "LC_MESSAGES" / "django.po"
IGNORED = (".venv", "tests", "staticfiles", "var", "bench")


def load_tables() -> dict[str, object]:
    translations: dict[str, object] = {}
    for table in sorted((LOCALE_DIR / "es").glob("*.json")):
        translations.update(json.loads(table.read_text(encoding="utf-8")))
    return translations


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _unquote(lines: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', lines)
    return "".join(parts).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def fill(po_text: str, translations: dict[str, object]) -> tuple[str, list[str]]:
    """Return the .po text with every known msgstr set, and the msgids left untranslated."""
    blocks = po_text.split("\n\n")
    missing = []
    for index, block in enumerate(blocks):
        msgid_match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if index == 0 or not msgid_match:
            continue
        msgid = _unquote(msgid_match.group(1))
        context_match = re.search(r'^msgctxt ((?:".*"\n?)+)', block, re.M)
        if context_match:
            msgid = f"{_unquote(context_match.group(1))}|{msgid}"
        head = block[: block.index("msgstr")].replace("#, fuzzy\n", "")
        # A fuzzy match that msgmerge made from a similar old message: its flag
        # shares a line with others ("#, fuzzy, python-format"), and compilemessages
        # skips fuzzy entries, so the flag and the old message ("#| ...") go.
        head = re.sub(r"^#\| .*\n", "", head.replace("#, fuzzy, ", "#, "), flags=re.M)
        entry = translations.get(msgid)
        if entry is None:
            missing.append(msgid)
        elif isinstance(entry, dict):
            singular, plural = entry["translations"]
            blocks[index] = head + f"msgstr[0] {_quote(singular)}\nmsgstr[1] {_quote(plural)}"
        else:
            blocks[index] = head + f"msgstr {_quote(entry)}"
    plural_forms = '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"'
    header = re.sub(r'"Plural-Forms:.*?\\n"', lambda match: plural_forms, blocks[0], flags=re.S)
    blocks[0] = header.replace('"Language: \\n"', '"Language: es\\n"').replace("#, fuzzy\n", "")
    return "\n\n".join(blocks), missing


def _manage(*arguments: str) -> None:
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    ignore = [f"--ignore={folder}" for folder in IGNORED]
    _manage("makemessages", "-l", "es", "--no-obsolete", *ignore)
    text, missing = fill(PO_FILE.read_text(encoding="utf-8"), load_tables())
    PO_FILE.write_text(text, encoding="utf-8")
    _manage("compilemessages", "-l", "es", *ignore)
    for msgid in missing:
        print(f"untranslated: {msgid}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
