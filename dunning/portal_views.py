"""The customer portal (no login): a signed link shows one customer's open invoices and
statement, and lets the customer dispute an invoice or promise a date."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from receivables.models import Invoice
from receivables.selectors import customer_statement, open_invoices
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.money import ZERO
from tenancy.net import client_ip

from . import financing, services
from .forms import PortalDisputeForm, PortalPromiseForm
from .models import Dispute, DisputeStatus, PromiseStatus, PromiseToPay
from .portal import PortalLinkError, portal_customer, portal_invalid_rate_limited, portal_link_rate_limited


def _client(request) -> str:
    # The real client behind the configured proxies, not the proxy's address (tenancy/net.py).
    return client_ip(request)


def _too_many(request) -> HttpResponse:
    return render(request, "dunning/portal/refused.html",
                  {"message": _("Too many requests. Please wait a minute and try again.")}, status=429)


def _refuse(request, error: PortalLinkError) -> HttpResponse:
    status = 410 if error.expired else 403
    message = (_("This link has expired. Ask your supplier for a new one.") if error.expired
               else _("This link is not valid. Check that you copied all of it."))
    return render(request, "dunning/portal/refused.html", {"message": message}, status=status)


def portal_view(view):
    """Rate-limit, resolve the link to its customer (or refuse), speak the customer's language."""

    def wrapper(request, token: str, *args, **kwargs):
        # Valid links are limited per link, invalid ones per client address: invalid links
        # never starve valid ones, and clients behind one proxy never share a budget.
        try:
            customer = portal_customer(token)
        except PortalLinkError as error:
            if portal_invalid_rate_limited(_client(request)):
                return _too_many(request)
            return _refuse(request, error)
        if portal_link_rate_limited(token):
            return _too_many(request)
        with translation.override(customer.language):
            response = view(request, token, customer, *args, **kwargs)
            response.headers.setdefault("Cache-Control", "no-store")
            # The link is the credential: never leak it to other sites (same-origin keeps CSRF Origin checks working).
            response.headers["Referrer-Policy"] = "same-origin"
            return response

    wrapper.__name__ = view.__name__
    return wrapper


def _open_invoices(customer):
    return list(open_invoices(customer.organization).filter(customer=customer).order_by("due_date", "pk"))


def _pay_to(organization, invoices) -> list[dict]:
    """Whom to pay for invoices assigned to a disclosed factor (dunning.financing)."""
    return financing.pay_to_groups(financing.pay_to(organization, [i.pk for i in invoices]),
                                   [(i.pk, i.number) for i in invoices])


def _portal_invoice(customer, invoice_id: int) -> Invoice:
    invoice = Invoice.objects.filter(organization_id=customer.organization_id, customer=customer,
                                     pk=invoice_id).first()
    if invoice is None:
        raise Http404
    return invoice


def _statement_totals(statement) -> list[dict]:
    """Per currency: the open balance, the cash and credits on account, and what is owed net."""
    rows = []
    for currency in sorted(set(statement.lines_by_currency) | set(statement.unapplied_by_currency)):
        balance = statement.balance(currency)
        credit = statement.unapplied_by_currency.get(currency, ZERO)
        rows.append({"currency": currency, "balance": balance, "on_account": credit, "net": balance - credit,
                     "lines": statement.lines_by_currency.get(currency, [])})
    return rows


def _page(request, token, customer, *, errors=None, forms_for=None, status=200):
    organization = customer.organization
    today = local_today(organization.timezone)
    invoices = _open_invoices(customer)
    disputes = {d.invoice_id: d for d in Dispute.objects.filter(customer=customer, status=DisputeStatus.OPEN)}
    promised = set(PromiseToPay.objects.filter(customer=customer, status=PromiseStatus.OPEN)
                   .values_list("invoices", flat=True))
    rows = [{"invoice": i, "balance": i.total_amount - i.applied_amount, "overdue": i.due_date < today,
             "days": max(0, (today - i.due_date).days), "dispute": disputes.get(i.pk), "promised": i.pk in promised,
             "dispute_form": (forms_for or {}).get(("dispute", i.pk)) or PortalDisputeForm(prefix=f"d{i.pk}"),
             "promise_form": (forms_for or {}).get(("promise", i.pk)) or PortalPromiseForm(
                 prefix=f"p{i.pk}", initial={"amount": i.total_amount - i.applied_amount})}
            for i in invoices]
    statement = customer_statement(organization, customer, today)
    totals = _statement_totals(statement)
    return render(request, "dunning/portal/home.html", {
        "customer": customer, "organization": organization, "rows": rows, "totals": totals, "token": token,
        "today": today, "done": request.GET.get("done", ""), "errors": errors or [],
        "pay_to": _pay_to(organization, invoices)}, status=status)


@require_http_methods(["GET"])
@portal_view
def portal_home(request, token, customer):
    organization = customer.organization
    services.portal_visit_record(organization=organization, customer=customer, client=_client(request))
    return _page(request, token, customer)


@require_http_methods(["GET"])
@portal_view
def portal_statement_pdf(request, token, customer):
    from weasyprint import HTML

    organization = customer.organization
    today = local_today(organization.timezone)
    statement = customer_statement(organization, customer, today)
    html = render_to_string("dunning/statement_pdf.html", {
        "organization": organization, "customer": customer, "statement": statement, "today": today,
        "currencies": _statement_totals(statement),
        "pay_to": _pay_to(organization, _open_invoices(customer))})
    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{today.isoformat()}.pdf"'
    return response


def _label(customer) -> str:
    # the actor of what the customer does in the portal (timeline, audit); shown in the reader's language
    return (_("Customer portal: %(customer)s") % {"customer": customer.name})[:200]


@require_http_methods(["POST"])
@portal_view
def portal_dispute(request, token, customer, invoice_id: int):
    invoice = _portal_invoice(customer, invoice_id)
    form = PortalDisputeForm(request.POST, prefix=f"d{invoice.pk}")
    if form.is_valid():
        try:
            services.portal_dispute_open(organization=customer.organization, customer=customer, invoice=invoice,
                                         reason=form.cleaned_data["reason"], amount=form.cleaned_data["amount"],
                                         description=form.cleaned_data["description"], actor_label=_label(customer))
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return redirect(f"{request.path.rsplit('/invoices/', 1)[0]}/?done=dispute")
    return _page(request, token, customer, forms_for={("dispute", invoice.pk): form}, status=400)


@require_http_methods(["POST"])
@portal_view
def portal_promise(request, token, customer, invoice_id: int):
    invoice = _portal_invoice(customer, invoice_id)
    form = PortalPromiseForm(request.POST, prefix=f"p{invoice.pk}")
    if form.is_valid():
        try:
            services.portal_promise_create(organization=customer.organization, customer=customer, invoice=invoice,
                                           amount=form.cleaned_data["amount"],
                                           promised_date=form.cleaned_data["promised_date"],
                                           notes=form.cleaned_data["notes"], actor_label=_label(customer))
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return redirect(f"{request.path.rsplit('/invoices/', 1)[0]}/?done=promise")
    return _page(request, token, customer, forms_for={("promise", invoice.pk): form}, status=400)

