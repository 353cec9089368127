"""An organization's own wording of dunning messages (issue 14 item 4): plain text with
`{{ variable }}` placeholders from a fixed list.

The text is never a Django template: only the names below are replaced, by plain strings, so an
admin's wording can neither reach other attributes nor run tags. The HTML part is built from the
finished text, escaped, so a `<script>` in the wording or in a customer's name stays text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from tenancy.models import Organization
from tenancy.text import render_text

from .models import MessageTemplate

VARIABLES = {
    "customer_name": _("The customer's legal name (or its name)"),
    "organization_name": _("Your organization's name"),
    "today": _("Today's date (YYYY-MM-DD)"),
    "oldest_days_overdue": _("Days overdue of the most overdue invoice listed"),
    "invoice_lines": _("The invoices listed: number, due date, days late, amount due, late fees and interest"),
    "account_statement": _("The account statement per currency: open, overdue, charges, credit on account"),
    "payment_instructions": _("Where to pay invoices assigned to a factor (added at the end when left out)"),
    "portal_url": _("The link to the customer's own page in the portal"),
}

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")

_SKELETON = {
    "en": ("Dear {{ customer_name }},\n\n%s\n\n{{ invoice_lines }}\n\n{{ payment_instructions }}\n\n"
           "{{ account_statement }}\n\nSee all your open invoices, download your statement, tell us about a problem "
           "with an invoice or let us know when you will pay:\n{{ portal_url }}\n\nKind regards,\n"
           "{{ organization_name }}\n"),
    "zh-hans": ("{{ customer_name }}：\n\n%s\n\n{{ invoice_lines }}\n\n{{ payment_instructions }}\n\n"
                "{{ account_statement }}\n\n查看全部未结发票、下载对账单、对发票提出异议或告知付款日期：\n{{ portal_url }}\n\n"
                "此致\n{{ organization_name }}\n"),
}


@dataclass(frozen=True)
class Wording:
    subject: str
    body: str


def unknown_variables(text: str) -> list[str]:
    """Placeholders in `text` that are not on the list, in order of appearance."""
    seen: list[str] = []
    for name in PLACEHOLDER.findall(text):
        if name not in VARIABLES and name not in seen:
            seen.append(name)
    return seen


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace each listed placeholder by its plain-text value; anything else stays as typed."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), text)


def default_wording(template: str, language: str) -> Wording:
    """What the files say for this step and language, as editable text with placeholders (the
    standard tone): the starting point of an organization's own wording."""
    folder = f"emails/dunning/{language}"
    context = {"headline": template, "tone": "standard", "organization": {"name": "{{ organization_name }}"}}
    subject = " ".join(render_text(f"{folder}/notice_subject.txt", context).split())
    intro = render_text(f"{folder}/_intro.txt", context).strip()
    return Wording(subject, _SKELETON[language] % intro)


def values_for(context: dict, language: str) -> dict[str, str]:
    """The variables' plain-text values for one message, from the context of the file templates."""
    folder = f"emails/dunning/{language}"
    customer, items = context["customer"], context["items"]
    return {
        "customer_name": customer.legal_name or customer.name,
        "organization_name": context["organization"].name,
        "today": context["today"].isoformat(),
        "oldest_days_overdue": str(max((i.days_overdue for i in items), default=0)),
        "invoice_lines": render_text(f"{folder}/_items.txt", context).strip(),
        "account_statement": render_text(f"{folder}/_statement.txt", context).strip(),
        "payment_instructions": render_text(f"{folder}/_pay_to.txt", context).strip(),
        "portal_url": context["portal_url"],
    }


def tidy(text: str) -> str:
    """At most one blank line in a row (an empty variable leaves none behind), no trailing spaces."""
    return BLANK_RUNS.sub("\n\n", "\n".join(line.rstrip() for line in text.strip().splitlines())) + "\n"


def fill(wording: Wording, values: dict[str, str]) -> Wording:
    """The finished subject and text. Payment instructions to a factor are never dropped: when
    the wording leaves them out, they are added at the end."""
    body = substitute(wording.body, values)
    if values.get("payment_instructions") and "payment_instructions" not in PLACEHOLDER.findall(wording.body):
        body = body.rstrip() + "\n\n" + values["payment_instructions"]
    subject = " ".join(substitute(wording.subject, values).split())
    return Wording(subject, tidy(body))


def text_html(*, subject: str, text: str, language: str) -> str:
    """The HTML part of a message whose text was written by hand: the text escaped, paragraphs
    and links kept."""
    body = linebreaks(urlize(text, autoescape=True), autoescape=False)
    return render_to_string("emails/dunning/custom_body.html",
                            {"subject": subject, "body": mark_safe(body), "language": language})  # noqa: S308 (escaped above)


def organization_wordings(organization: Organization) -> dict[tuple[str, str], Wording]:
    """The organization's own wordings, by (step template, language): one query for a whole run."""
    return {(row.template, row.language): Wording(row.subject, row.body)
            for row in MessageTemplate.objects.filter(organization=organization)}
