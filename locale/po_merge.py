"""Merge translated entries into the Simplified Chinese catalog and compile it, under a file lock.

Several people add strings at once; `makemessages` rewrites the whole catalog, so new strings are
added with this instead (run `makemessages` + `po_check.py` once when the dust settles):

    .venv/bin/python locale/po_merge.py my_strings.po     # entries with msgid/msgstr (msgctxt kept)

An entry already in the catalog gets the new translation; every other entry is appended. Then
django.mo is compiled from the merged catalog.
"""

import fcntl
import sys
from pathlib import Path

import polib

HERE = Path(__file__).resolve().parent
PO = HERE / "zh_Hans" / "LC_MESSAGES" / "django.po"


def merge(source: Path, target: Path = PO) -> tuple[int, int]:
    added = updated = 0
    with open(target.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        catalog = polib.pofile(str(target))
        for entry in polib.pofile(str(source)):
            if entry.obsolete or not entry.msgid:
                continue
            existing = catalog.find(entry.msgid, msgctxt=entry.msgctxt) if entry.msgctxt else catalog.find(entry.msgid)
            if existing is not None:
                if existing.msgstr != entry.msgstr or existing.msgstr_plural != entry.msgstr_plural:
                    existing.msgstr, existing.msgstr_plural = entry.msgstr, entry.msgstr_plural
                    existing.flags = [flag for flag in existing.flags if flag != "fuzzy"]
                    updated += 1
                continue
            catalog.append(polib.POEntry(msgid=entry.msgid, msgid_plural=entry.msgid_plural, msgstr=entry.msgstr,
                                         msgstr_plural=entry.msgstr_plural, msgctxt=entry.msgctxt,
                                         occurrences=entry.occurrences))
            added += 1
        catalog.save(str(target))
        catalog.save_as_mofile(str(target.with_suffix(".mo")))
    return added, updated


if __name__ == "__main__":
    for name in sys.argv[1:]:
        added, updated = merge(Path(name))
        print(name, f"added {added}, updated {updated}")
