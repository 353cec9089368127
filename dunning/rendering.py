"""What a dunning message says: subject, text and HTML in the customer's language (one
template set per language under templates/emails/dunning/<language>/), and the bilingual
formal demand letter PDF of the +90 step."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from receivables.models import Customer
from tenancy.models import Language, Organization
from tenancy.money import ZERO, quantize
from tenancy.text import render_text

from . import financing, wording
from .models import StepTemplate
from .selectors import Candidate, Charges

# Severity order of step templates: the message's headline is its most severe item.
SEVERITY = [StepTemplate.COURTESY, StepTemplate.REMINDER, StepTemplate.SECOND, StepTemplate.FINAL_NOTICE,
            StepTemplate.FINAL_DEMAND]


@dataclass(frozen=True)
class Item:
    """One invoice line of a message, amounts already rounded for print.

    What the templates print is computed once, when the item is made (a message's three templates
    print each line, and a run over a large book prints 100,000 lines or more), and templates read
    it as a mapping: `{{ item.number }}` finds `item["number"]` at Django's first try, without the
    failed subscript and attribute walk that an object costs each time. `due_text` is the due date
    as YYYY-MM-DD, `days_text` the days overdue as digits."""

    candidate: Candidate
    fee: Decimal
    interest: Decimal
    printed: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        candidate, currency = self.candidate, self.candidate.currency
        object.__setattr__(self, "printed", {
            "number": candidate.number,
            "due_date": candidate.due_date,
            "due_text": candidate.due_date.isoformat(),
            "days_overdue": candidate.days_overdue,
            "days_text": str(candidate.days_overdue),
            "currency": currency,
            "template": candidate.step.template,
            "amount_due": f"{quantize(candidate.amount_due, currency):,}",
            "disputed": f"{quantize(candidate.disputed, currency):,}" if candidate.disputed else "",
            "fee_text": f"{self.fee:,}" if self.fee else "",
            "interest_text": f"{self.interest:,}" if self.interest else "",
        })

    def __getitem__(self, key: str):
        return self.printed[key]  # KeyError: a template then looks for an attribute of that name

    @property
    def number(self) -> str:
        return self.printed["number"]

    @property
    def due_date(self) -> dt.date:
        return self.printed["due_date"]

    @property
    def days_overdue(self) -> int:
        return self.printed["days_overdue"]

    @property
    def currency(self) -> str:
        return self.printed["currency"]

    @property
    def template(self) -> str:
        return self.printed["template"]

    @property
    def amount_due(self) -> str:
        return self.printed["amount_due"]

    @property
    def disputed(self) -> str:
        return self.printed["disputed"]

    @property
    def fee_text(self) -> str:
        return self.printed["fee_text"]

    @property
    def interest_text(self) -> str:
        return self.printed["interest_text"]


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str
    headline: str
    has_letter: bool
    items: list[Item]

    @property
    def content_hash(self) -> str:
        return content_hash(self.subject, self.text, self.html)


def content_hash(subject: str, text: str, html: str) -> str:
    return hashlib.sha256("\x1e".join((subject, text, html)).encode()).hexdigest()


def customer_language(customer: Customer) -> str:
    return customer.language if customer.language in Language.values else Language.EN


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


@functools.cache
def _portal_pattern() -> str:
    # Reversed once: resolving the URLconf per message would cost more than rendering it.
    return reverse("portal:home", args=["TOKEN"])


def portal_url(organization: Organization, customer: Customer) -> str:
    from .portal import portal_token

    return site_url() + _portal_pattern().replace("TOKEN", portal_token(organization, customer))


def items_for(candidates: list[Candidate], charges: dict[int, Charges]) -> list[Item]:
    return [Item(c, charges[c.invoice_id].fee, charges[c.invoice_id].interest) for c in candidates]


def _totals(items: list[Item], open_totals: dict[str, tuple[Decimal, Decimal]],
            on_account: dict[str, Decimal]) -> list[dict]:
    rows = []
    for currency in sorted({i.currency for i in items} | set(open_totals) | set(on_account)):
        open_amount, overdue = open_totals.get(currency, (ZERO, ZERO))
        fees = sum((i.fee + i.interest for i in items if i.currency == currency), ZERO)
        credit = on_account.get(currency, ZERO)
        rows.append({"currency": currency, "open": f"{quantize(open_amount, currency):,}",
                     "overdue": f"{quantize(overdue, currency):,}", "charges": f"{fees:,}" if fees else "",
                     "on_account": f"{quantize(credit, currency):,}" if credit else "",
                     "net": f"{quantize(open_amount + fees - credit, currency):,}"})
    return rows


def message_render(*, organization: Organization, customer: Customer, items: list[Item], tone: str,
                   open_totals: dict[str, tuple[Decimal, Decimal]], today: dt.date, portal_link: str,
                   on_account: dict[str, Decimal] | None = None, pay_to: dict[int, dict] | None = None,
                   wordings: dict | None = None, headline: str | None = None,
                   language: str | None = None) -> Rendered:
    """Render one customer's message for today, in the customer's language: the organization's
    own wording of the step when it has one (`wordings`, loaded once per run), else the files.
    `headline` names the step whose wording to use (default: the most severe item's)."""
    language = language or customer_language(customer)
    headline = headline or max((i.template for i in items), key=SEVERITY.index)
    context = {"organization": organization, "customer": customer, "items": items, "tone": tone,
               "headline": headline, "totals": _totals(items, open_totals, on_account or {}), "today": today,
               "portal_url": portal_link, "has_letter": headline == StepTemplate.FINAL_DEMAND,
               "pay_to": financing.pay_to_groups(pay_to or {}, [(i.candidate.invoice_id, i.number) for i in items])}
    folder = f"emails/dunning/{language}"
    if wordings is None:
        wordings = wording.organization_wordings(organization)
    own = wordings.get((headline, language))
    if own is not None:
        with translation.override(language):
            filled = wording.fill(own, wording.values_for(context, language))
        html = wording.text_html(subject=filled.subject, text=filled.body, language=language)
        return Rendered(filled.subject, filled.body, html, language, headline, context["has_letter"], items)
    with translation.override(language):
        subject = " ".join(render_text(f"{folder}/notice_subject.txt", context).split())
        text = render_text(f"{folder}/notice_body.txt", context)
        html = render_to_string(f"{folder}/notice_body.html", context)
    return Rendered(subject, text, html, language, headline, context["has_letter"], items)


def letter_pdf(*, organization: Organization, customer: Customer, notices, today: dt.date) -> bytes:
    """The formal demand letter (English and Chinese on one document) as PDF bytes. It lists the
    notices given (those of the formal-demand step) and says how late the least late of them is."""
    from weasyprint import HTML

    lines = [{"number": n.invoice.number, "due_date": n.invoice.due_date, "days": n.days_overdue,
              "currency": n.currency, "amount": f"{quantize(n.amount_due, n.currency):,}",
              "charges": f"{quantize(n.fee_amount + n.interest_amount, n.currency):,}"} for n in notices]
    totals: dict[str, Decimal] = {}
    for n in notices:
        totals[n.currency] = totals.get(n.currency, ZERO) + n.amount_due + n.fee_amount + n.interest_amount
    html = render_to_string("dunning/letter_pdf.html", {
        "organization": organization, "customer": customer, "lines": lines, "today": today,
        "totals": [{"currency": c, "amount": f"{quantize(a, c):,}"} for c, a in sorted(totals.items())],
        "deadline": today + dt.timedelta(days=10), "min_days": min((n.days_overdue for n in notices), default=0),
    })
    return HTML(string=html).write_pdf()
