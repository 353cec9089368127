"""Invoice pages: filtered list (with its CSV/XLSX download and bulk export), detail with its ledger and actions, create, edit."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.forms import form_error_from_domain
from tenancy.models import Role
from tenancy.views import organization_required, paginate, role_at_least

from .. import selectors, services
from ..exports import Column, choice_labels, export_format, list_export_response, money_cell
from ..filters import INVOICE_SORTS, InvoiceFilter
from ..forms import (
    CreditNoteApplyForm,
    EditVersionForm,
    InvoiceCreateForm,
    InvoiceUpdateForm,
    InvoiceVoidForm,
    InvoiceWriteOffForm,
    StaleEdit,
)
from ..listactions import bulk_actions
from ..markers import invoice_markers
from ..models import Customer, Invoice, InvoiceStatus
from ..panels import customer_holds
from .lists import (
    ChainedRows,
    back,
    customer_choices,
    export_or_none,
    list_filterset,
    one_of,
    selected_rows,
    sorted_rows,
    ui_fields,
)


def _invoice_columns(today) -> list[Column]:
    def days_overdue(invoice) -> int:
        late = invoice.balance > 0 and invoice.due_date < today
        return (today - invoice.due_date).days if late else 0

    statuses = choice_labels(InvoiceStatus.choices)
    return [
        Column(_("Number"), lambda i: i.number),
        Column(_("Customer"), lambda i: i.customer.name),
        Column(_("Customer external id"), lambda i: i.customer.external_id or ""),
        Column(_("Issued"), lambda i: i.issue_date),
        Column(_("Due"), lambda i: i.due_date),
        Column(_("Status"), lambda i: statuses.get(i.status, i.status)),
        Column(_("Currency"), lambda i: i.currency),
        Column(_("Total"), lambda i: money_cell(i.total_amount, i.currency)),
        Column(_("Applied"), lambda i: money_cell(i.applied_amount, i.currency)),
        Column(_("Balance"), lambda i: money_cell(i.balance, i.currency)),
        Column(_("Days overdue"), days_overdue),
        Column(_("External id"), lambda i: i.external_id or ""),
    ]


def _invoice_rows(organization):
    return selectors.invoice_list(organization).annotate(balance_due=F("total_amount") - F("applied_amount"))


def invoices_export(request: HttpRequest, rows, fmt: str) -> HttpResponse:
    return list_export_response(organization=request.organization, stem="invoices", title=_("Invoices"),
                                columns=_invoice_columns(local_today(request.organization.timezone)),
                                objects=rows, fmt=fmt)


@organization_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    """Invoices narrowed by the API's InvoiceFilter, open and most overdue first by default; the same
    rows as CSV or XLSX with `?export=`."""
    organization = request.organization
    filterset = list_filterset(InvoiceFilter, request, _invoice_rows(organization))
    customer_choices(filterset, organization)
    one_of(filterset, "status", _("Any status"))
    invoices, sort = sorted_rows(filterset.qs, INVOICE_SORTS, request)
    today = local_today(organization.timezone)
    download = export_or_none(request, filterset, invoices, stem="invoices", title=_("Invoices"),
                              columns=_invoice_columns(today))
    if download is not None:
        return download
    if sort == "priority":
        # The same order read in two parts, each in an index's order (open items by due date, then the
        # rest), so a page reads 25 rows instead of sorting every invoice of the organization.
        open_items = Q(voided_on__isnull=True, applied_amount__lt=F("total_amount"))
        invoices = ChainedRows(filterset.qs.filter(open_items).order_by("due_date", "pk"),
                               filterset.qs.exclude(open_items).order_by("due_date", "pk"), whole=filterset.qs)
    page = paginate(request, invoices)
    # Facts higher apps keep beside an invoice (assigned to a factor, insured, expected payment date).
    markers = invoice_markers(organization, [invoice.pk for invoice in page])
    for invoice in page:
        invoice.markers = markers.get(invoice.pk, [])
    return render(request, "receivables/invoice_list.html", {
        "filter_form": filterset.form, "filter_fields": ui_fields(filterset), "page": page, "sort": sort,
        "today": today, "can_edit": role_at_least(request, Role.COLLECTOR),
        "bulk_actions": bulk_actions(request, "invoices"),
    })


@organization_required
@require_POST
def invoice_bulk_export(request: HttpRequest) -> HttpResponse:
    """The selected invoices (`ids`, all of the organization or none) as CSV or XLSX."""
    fmt = export_format(request)
    rows = selected_rows(request, _invoice_rows(request.organization)) if fmt else None
    if rows is None:
        return back(request, reverse("invoice_list"))
    return invoices_export(request, rows.order_by(*INVOICE_SORTS["priority"]), fmt)


def _detail(request: HttpRequest, invoice: Invoice, **forms) -> HttpResponse:
    void_form = forms.get("void_form") or InvoiceVoidForm()
    write_off_form = forms.get("write_off_form") or InvoiceWriteOffForm()
    credit_form = forms.get("credit_form") or CreditNoteApplyForm(invoice)
    open_balance = invoice.voided_on is None and invoice.balance > 0
    # A form that was posted is always shown again, so its error (e.g. a role refusal) is visible.
    context = {
        "invoice": invoice,
        "ledger": selectors.invoice_ledger(request.organization, invoice),
        "today": local_today(request.organization.timezone),
        "void_form": void_form, "write_off_form": write_off_form, "credit_form": credit_form,
        "show_credit": credit_form.is_bound or (open_balance and role_at_least(request, Role.COLLECTOR)),
        "show_write_off": write_off_form.is_bound or (open_balance and role_at_least(request, Role.CREDIT_MANAGER)),
        "show_void": void_form.is_bound or (invoice.voided_on is None and role_at_least(request, Role.COLLECTOR)),
        "show_edit": invoice.voided_on is None and role_at_least(request, Role.COLLECTOR),
        "can_edit": role_at_least(request, Role.COLLECTOR),  # links to the credit notes' edit pages
        "can_edit_write_off": role_at_least(request, Role.CREDIT_MANAGER),
        "markers": invoice_markers(request.organization, [invoice.pk]).get(invoice.pk, []),
    }
    return render(request, "receivables/invoice_detail.html", context)


def _invoice(request: HttpRequest, pk: int) -> Invoice:
    return get_object_or_404(Invoice.objects.select_related("customer"), organization=request.organization, pk=pk)


@organization_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _invoice(request, pk))


@organization_required
@require_POST
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = InvoiceVoidForm(request.POST)
    if form.is_valid():
        try:
            services.invoice_void(organization=request.organization, invoice=invoice, actor=request.user,
                                  reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("Invoice %(number)s is void.") % {"number": invoice.number})
            return redirect("invoice_detail", pk=invoice.pk)
    return _detail(request, invoice, void_form=form)


@organization_required
@require_POST
def invoice_write_off(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = InvoiceWriteOffForm(request.POST)
    if form.is_valid():
        try:
            services.invoice_write_off(organization=request.organization, invoice=invoice, actor=request.user,
                                       **form.cleaned_data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("Invoice %(number)s written off.") % {"number": invoice.number})
            return redirect("invoice_detail", pk=invoice.pk)
    return _detail(request, invoice, write_off_form=form)


@organization_required
@require_POST
def invoice_credit_note(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = CreditNoteApplyForm(invoice, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["credit_note"]:
                services.credit_note_apply(organization=request.organization, actor=request.user,
                                           credit_note=data["credit_note"], allocations=[(invoice, data["amount"])])
            else:
                services.credit_note_create(
                    organization=request.organization, actor=request.user, customer=invoice.customer,
                    number=data["number"], issued_on=data["issued_on"], amount=data["amount"],
                    currency=invoice.currency, reason=data["reason"], invoice=invoice,
                )
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("Credit applied to invoice %(number)s.") % {"number": invoice.number})
            return redirect("invoice_detail", pk=invoice.pk)
    return _detail(request, invoice, credit_form=form)


@organization_required
def invoice_create(request: HttpRequest) -> HttpResponse:
    initial = {"issue_date": local_today(request.organization.timezone)}
    if request.GET.get("customer", "").isdigit():
        initial["customer"] = request.GET["customer"]
    form = InvoiceCreateForm(request.organization, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            invoice = services.invoice_create(organization=request.organization, actor=request.user,
                                              **form.cleaned_data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("Invoice %(number)s created.") % {"number": invoice.number})
            if getattr(invoice, "credit_warning", None):
                messages.warning(request, invoice.credit_warning)
            return redirect("invoice_detail", pk=invoice.pk)
    return render(request, "receivables/invoice_form.html", {"form": form, **_hold_notice(request, form)})


def _hold_notice(request: HttpRequest, form: InvoiceCreateForm) -> dict:
    """The chosen customer's hold (blacklisted, on credit hold), said before the user types the invoice."""
    chosen = str(form["customer"].value() or "")
    customer = (Customer.objects.filter(organization=request.organization, pk=int(chosen)).first()
                if chosen.isdigit() and len(chosen) < 19 else None)
    if customer is None:
        return {}
    holds = customer_holds(request.organization, [customer.pk], local_today(request.organization.timezone))
    return {"hold_customer": customer, "holds": holds.get(customer.pk, [])}


def _invoice_edit_form(invoice: Invoice, data=None) -> InvoiceUpdateForm:
    form = InvoiceUpdateForm.for_object(invoice, data)
    if invoice.voided_on is not None:
        form.disable()  # shown read-only with the reason; a POST still goes to the service, which refuses it
    return form


@organization_required
def invoice_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct an invoice (dates, amounts, references) through `services.invoice_update`.

    The form carries the `updated_at` the user opened; a save over a change made meanwhile is refused
    and the form shows the current values instead."""
    invoice = _invoice(request, pk)
    form = _invoice_edit_form(invoice, request.POST if request.method == "POST" else None)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            # The version is compared under the service's row locks, as the API's If-Match is, so two
            # saves cannot both win; the changes are against what the user opened (refused if stale).
            invoice = services.invoice_update(organization=request.organization, invoice=invoice,
                                              actor=request.user, precondition=form.fresh_check,
                                              **form.changes(invoice))
        except StaleEdit:
            stale = True
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("Invoice %(number)s saved.") % {"number": invoice.number})
            return redirect("invoice_detail", pk=invoice.pk)
        if stale:
            invoice = _invoice(request, pk)  # show what is there now; the user reviews it and saves again
            form = _invoice_edit_form(invoice)
    return render(request, "receivables/invoice_edit.html", {
        "form": form, "invoice": invoice, "stale_message": EditVersionForm.STALE_MESSAGE if stale else None,
    })
