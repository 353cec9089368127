"""Text the app wrote and stored (an alert's message, a task's title, a timeline line, a score's
conditions) shown in the reader's language.

Such text is written once, in the language active when it was made (often English: a nightly task),
and read by people of every language. Each app lists the messages it stores (their msgids, with
%(name)s placeholders); `retranslate` finds them in a stored text, in English or in any catalog's
translation, takes the values back out of the placeholders and writes the message again in the active
language. Text that is no known message (typed by a person) is returned as it was."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@lru_cache(maxsize=4096)
def _pattern(template: str) -> re.Pattern | None:
    """A regex matching `template` with each %(name)s as a named group (None: nothing to match on)."""
    parts, names, position = [], set(), 0
    for match in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position:match.start()].replace("%%", "%")))
        name = match.group(1)
        parts.append(f"(?P={name})" if name in names else f"(?P<{name}>.+?)")
        names.add(name)
        position = match.end()
    parts.append(re.escape(template[position:].replace("%%", "%")))
    return re.compile("".join(parts), re.DOTALL) if template.strip() else None


@lru_cache(maxsize=4096)
def _templates(msgid: str, language: str) -> tuple[str, ...]:
    """The msgid and its translation in every language but the active one (the text may be in any)."""
    found = [msgid]
    for code, _name in settings.LANGUAGES:
        if code != language:
            with translation.override(code):
                found.append(gettext(msgid))
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=8192)
def _literal(template: str) -> str:
    """The longest piece of `template` between placeholders: a cheap test before the regex."""
    return max(PLACEHOLDER.split(template)[::2], key=len).replace("%%", "%")


def _known(msgid: str) -> bool:
    """Worth looking for: some words around the placeholders (not "%(a)s: %(b)s")."""
    return len(re.sub(r"[^A-Za-z]", "", PLACEHOLDER.sub("", msgid))) >= 3


def retranslate(text: str, msgids: Iterable[str] | None = None, labels: Iterable[str] = (), *, depth: int = 2) -> str:
    """`text` with every known message in it written in the active language. `msgids`: the messages
    to look for (default: every message of the project's code, see `project_msgids`)."""
    if not text or not isinstance(text, str):
        return text
    language = translation.get_language() or settings.LANGUAGE_CODE
    candidates = project_msgids() if msgids is None else tuple(sorted(set(msgids), key=len, reverse=True))
    return _retranslate(text, candidates, tuple(labels), language, depth)


@lru_cache(maxsize=8192)
def _retranslate(text: str, msgids: tuple[str, ...], labels: tuple[str, ...], language: str, depth: int) -> str:
    def render(msgid: str, groups: Mapping[str, str]) -> str:
        values = {name: (_label(value, labels) or (_retranslate(value, msgids, labels, language, depth - 1)
                                                   if depth > 0 else value))
                  for name, value in groups.items()}
        try:
            return gettext(msgid) % values
        except (KeyError, ValueError, TypeError):
            return msgid % values

    for msgid in msgids:  # the whole text is one message
        for template in _templates(msgid, language):
            if _literal(template) in text and (pattern := _pattern(template)) is not None \
                    and (match := pattern.fullmatch(text)):
                return render(msgid, match.groupdict())
    for msgid in msgids:  # or sentences side by side ("Open account. Provisional score: ...")
        for template in _templates(msgid, language):
            if not template.rstrip().endswith((".", "。", ")", "）")) or _literal(template) not in text:
                continue
            pattern = _pattern(template)
            if pattern is None:
                continue
            if pattern.groups == 0:
                text = text.replace(template, gettext(msgid))
            else:
                text = pattern.sub(lambda m, msgid=msgid: render(msgid, m.groupdict()), text)
    return text


def _label(value: str, labels: tuple[str, ...]) -> str | None:
    """A placeholder's value that is itself a known label (a severity, a kind) in the active language."""
    for label in labels:
        for template in _templates(label, ""):
            if value.casefold() == template.casefold():
                text = gettext(label)
                return text.lower() if value.islower() else text
    return None


GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "gettext_noop", "pgettext", "pgettext_lazy", "ngettext",
                 "ngettext_lazy", "_lazy", "gettext_noop_"}


@lru_cache(maxsize=1)
def project_msgids() -> tuple[str, ...]:
    """Every message the project's own code marks for translation (as makemessages finds them), longest
    first: what the app may have stored in one language and shows in another."""
    found: set[str] = set()
    base = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        root = Path(config.path).resolve()
        if base not in root.parents:
            continue  # Django's and libraries' apps
        for path in root.rglob("*.py"):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and node.args:
                    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                    first = node.args[1] if name in ("pgettext", "pgettext_lazy") and len(node.args) > 1 else node.args[0]
                    if name in GETTEXT_CALLS and isinstance(first, ast.Constant) and isinstance(first.value, str) \
                            and _known(first.value):
                        found.add(first.value)
    return tuple(sorted(found, key=len, reverse=True))
