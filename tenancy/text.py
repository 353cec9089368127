"""Plain-text templates (mail subjects and bodies) rendered to plain strings.

A template rendered with `{% autoescape off %}` still comes back as a SafeString: printed in an
HTML page later it would go out raw, so a customer named `<script>` would run in the browser
(the dunning preview did exactly that). Text rendered here is a plain `str`, which every HTML
template escapes."""

from __future__ import annotations

from django.template.loader import render_to_string


def plain(text: str) -> str:
    """The same characters as a plain `str`, without the "safe for HTML" mark."""
    return str.__str__(text)


def render_text(template_name: str, context: dict) -> str:
    """Render a text template (subject, plain-text body) to a plain string."""
    return plain(render_to_string(template_name, context))
