"""Text the app wrote and stored, shown in the reader's language: {{ task.title|stored_text }}
(tenancy.retranslate; issue 14 item 10)."""

from django import template
from django.utils.translation import gettext_noop

from tenancy.retranslate import retranslate

register = template.Library()

# Stored words that no code marks where they are written (a run started by the scheduler).
STORED_WORDS = (gettext_noop("system"),)


@register.filter
def stored_text(value):
    """A stored message (a task's title, a timeline line, an alert) in the reader's language;
    text a person typed is shown as it is."""
    return retranslate(value) if isinstance(value, str) else value


@register.filter
def shown_value(field):
    """A form field's value as a reader sees it: a choice by its name (简体中文), not its code (zh-hans)."""
    value = field.value()
    for key, label in getattr(field.field, "choices", None) or ():
        options = label if isinstance(label, list | tuple) else [(key, label)]
        for option, name in options:
            if value is not None and str(option) == str(value):
                return name
    return value
