"""Every browser page of the project as a URL with real ids of the organization's rows.

Shared by the tests that open every page: the Simplified Chinese completeness test
(tests/test_zh_hans_complete.py) and the phone-width browser test (tests/e2e/test_phone_width.py).
The patterns come from tests/reliability/urlwalk.py (which fails on a pattern whose arguments it
cannot fill), so a page someone adds is walked the moment its route exists.

Rows are chosen to show as much as possible: the first row of each kind, and for customers and
invoices also a busy one (a customer with a dispute, an open overdue invoice), so the action
buttons, markers and side panels are on the page. The portal is opened as each of the given
customers (it speaks the customer's language, not the user's)."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.urls import NoReverseMatch, reverse

from tests.reliability.urlwalk import CONSTANT_ARGS, Page, pages

# Pages that are not worth opening with GET: they sign out, switch, or only answer to POST by design
# and redirect a GET elsewhere (the walk follows no redirects, so they would only cost time).
NOT_PAGES = {"logout", "organization_switch", "language_set", "insurance:callback"}


@dataclass(frozen=True)
class PageUrl:
    name: str   # namespace:name of the route
    url: str

    def __str__(self) -> str:
        return f"{self.name} {self.url}"


def _rows(model, organization, today: dt.date) -> list:
    """The rows a page of this model is opened with: the first, and a busy one where that differs."""
    from dunning.models import Dispute
    from receivables.models import Customer, Invoice, InvoiceStatus

    scoped = model._base_manager.filter(organization=organization).order_by("pk")
    rows = [scoped.first()]
    if model is Customer:
        dispute = Dispute.objects.filter(organization=organization).order_by("pk").first()
        rows.append(dispute.customer if dispute else None)
    elif model is Invoice:
        rows.append(scoped.filter(status__in=[InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID],
                                  due_date__lt=today - dt.timedelta(days=30)).first())
    unique = []
    for row in rows:
        if row is not None and row not in unique:
            unique.append(row)
    return unique


def _related(page: Page, arg: str, chosen: dict, organization, today):
    """An argument that must belong to another one chosen for the same URL (a customer's document,
    a payment's invoice, an assignment's customer); else the organization's first row."""
    from credit.models import CreditDocument
    from receivables.models import Customer, Invoice

    model = page.model_for(arg)
    first_arg = page.args[0]
    owner = chosen.get(first_arg)
    if model is CreditDocument and isinstance(owner, Customer):
        return CreditDocument.objects.filter(organization=organization, profile__customer=owner).order_by("pk").first()
    if model is Invoice and page.name == "payment_unapply" and owner is not None:
        allocation = owner.allocations.order_by("pk").first() if hasattr(owner, "allocations") else None
        return allocation.invoice if allocation else None
    rows = _rows(model, organization, today)
    return rows[0] if rows else None


def page_urls(organization, *, portal_customers=(), today: dt.date | None = None) -> list[PageUrl]:
    """Every page of the project as URLs with the organization's ids (a page whose rows do not
    exist in the organization is left out); the portal once per customer in `portal_customers`."""
    from dunning.portal import portal_token
    from receivables.models import Invoice, InvoiceStatus

    today = today or dt.date.today()
    urls: list[PageUrl] = []
    for page in pages():
        if page.name in NOT_PAGES:
            continue
        if not page.args:
            urls.append(PageUrl(page.name, reverse(page.name)))
            continue
        if "token" in page.args:
            for customer in portal_customers:
                kwargs = {"token": portal_token(organization, customer)}
                if "invoice_id" in page.args:
                    invoice = (Invoice.objects.filter(organization=organization, customer=customer,
                                                      status__in=[InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID])
                               .order_by("due_date", "pk").first())
                    if invoice is None:
                        continue
                    kwargs["invoice_id"] = invoice.pk
                urls.append(PageUrl(page.name, reverse(page.name, kwargs=kwargs)))
            continue
        first = page.args[0]
        if first in CONSTANT_ARGS:
            choices = [CONSTANT_ARGS[first]]
        else:
            model = page.model_for(first)
            choices = _rows(model, organization, today) if model is not None else []
        for choice in choices:
            chosen = {first: choice}
            for arg in page.args[1:]:
                chosen[arg] = (CONSTANT_ARGS[arg] if arg in CONSTANT_ARGS
                               else _related(page, arg, chosen, organization, today))
            if any(value is None for value in chosen.values()):
                continue
            kwargs = {arg: getattr(value, "pk", value) for arg, value in chosen.items()}
            try:
                urls.append(PageUrl(page.name, reverse(page.name, kwargs=kwargs)))
            except NoReverseMatch:
                continue
    return urls


IMPORT_FILE = Path(__file__).resolve().parent / "fixtures" / "import" / "invoices.csv"


def rows_for_every_page(organization, actor) -> None:
    """Add what the demo book lacks for some pages: an import waiting for its column mapping (the
    import pages and their labels) and a webhook endpoint. Files go to MEDIA_ROOT: point it at a
    temporary directory first."""
    from receivables.importing.services import import_job_create, import_job_read
    from tenancy.errors import DomainError
    from tenancy.webhooks import webhook_endpoint_create

    with IMPORT_FILE.open("rb") as file:
        job = import_job_create(organization=organization, actor=actor, kind="invoices", file=file,
                                file_name="invoices.csv")
    import_job_read(job_id=job.pk)  # the queued reading runs on commit; these tests never commit
    with contextlib.suppress(DomainError):  # the address check needs DNS; else the endpoint pages are left out
        webhook_endpoint_create(organization=organization, actor=actor, url="https://erp.example.com/inflow",
                                event_types=["invoice.paid"], description="ERP")


def is_html(response) -> bool:
    return response.status_code == 200 and "text/html" in response.get("Content-Type", "")
