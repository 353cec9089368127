"""Check the Simplified Chinese catalog after `makemessages`: every entry translated, none fuzzy,
and the same %(placeholders)s in msgid and msgstr. Exit status 1 lists what needs work.

Refresh steps (from the repository root):
    .venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=bench
    # translate the new/fuzzy entries in locale/zh_Hans/LC_MESSAGES/django.po (GLOSSARY.md terms)
    .venv/bin/python locale/po_check.py
    .venv/bin/python manage.py compilemessages --ignore=.venv
"""

import re
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrf]|%%|%[sd]")


def problems(path: Path = PO) -> list[str]:
    found = []
    catalog = polib.pofile(str(path))
    if catalog.metadata_is_fuzzy:
        found.append("the header is marked fuzzy: msgfmt would drop it (and its UTF-8 charset)")
    for entry in catalog:
        if entry.obsolete:
            continue
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if "fuzzy" in entry.flags:
            found.append(f"fuzzy: {entry.msgid!r}")
        elif not all(translations):
            found.append(f"untranslated: {entry.msgid!r}")
            continue
        # zh has one plural form: msgstr[0] serves every count, so it follows msgid_plural (as msgfmt checks).
        wanted = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for text in translations:
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                found.append(f"placeholders differ: {entry.msgid!r} -> {text!r}")
    return found


if __name__ == "__main__":
    issues = problems()
    for issue in issues:
        print(issue)
    print(f"{len(issues)} problem(s) in {PO}")
    sys.exit(1 if issues else 0)
