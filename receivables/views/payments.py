"""Payment pages: list, record (auto-allocate or leave unapplied), detail with allocation, edit."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Case, F, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.forms import form_error_from_domain
from tenancy.models import Role
from tenancy.money import money_format
from tenancy.views import organization_required, paginate, role_at_least

from .. import selectors, services
from ..exports import Column, choice_labels, money_cell
from ..filters import PAYMENT_SORTS, PaymentFilter
from ..forms import PaymentAllocateForm, PaymentRecordForm, PaymentUpdateForm
from ..models import Allocation, Customer, Payment, PaymentMethod
from .common import correction_page
from .lists import customer_choices, export_or_none, list_filterset, sorted_rows, ui_fields


def _payment_columns() -> list[Column]:
    methods = choice_labels(PaymentMethod.choices)
    return [
        Column(_("Received"), lambda p: p.received_on),
        Column(_("Customer"), lambda p: p.customer.name),
        Column(_("Method"), lambda p: methods.get(p.method, p.method)),
        Column(_("Reference"), lambda p: p.reference),
        Column(_("Currency"), lambda p: p.currency),
        Column(_("Amount"), lambda p: money_cell(p.amount, p.currency)),
        Column(_("Unapplied"), lambda p: money_cell(p.unapplied_amount, p.currency)),
        Column(_("External id"), lambda p: p.external_id or ""),
    ]


@organization_required
def payment_list(request: HttpRequest) -> HttpResponse:
    """Payments narrowed by the API's PaymentFilter, the latest first; CSV or XLSX with `?export=`."""
    organization = request.organization
    filterset = list_filterset(PaymentFilter, request, selectors.payment_list(organization))
    customer_choices(filterset, organization)
    payments, sort = sorted_rows(filterset.qs, PAYMENT_SORTS, request)
    download = export_or_none(request, filterset, payments, stem="payments", title=_("Payments"),
                              columns=_payment_columns())
    if download is not None:
        return download
    customer_id = filterset.form.cleaned_data.get("customer") if filterset.is_bound else None
    customer = Customer.objects.filter(organization=organization, pk=customer_id).first() if customer_id else None
    return render(request, "receivables/payment_list.html", {
        "page": paginate(request, payments), "customer": customer, "sort": sort,
        "filter_fields": ui_fields(filterset), "can_record": role_at_least(request, Role.COLLECTOR),
    })


@organization_required
def payment_record(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    initial = {"received_on": local_today(organization.timezone)}
    if request.GET.get("customer", "").isdigit():
        initial["customer"] = request.GET["customer"]
    form = PaymentRecordForm(organization, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        auto = data.pop("allocation") == PaymentRecordForm.ALLOCATE_AUTO
        try:
            payment = services.payment_record(organization=organization, actor=request.user, auto_allocate=auto,
                                              **data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("Payment of %(amount)s recorded.") % {
                "amount": money_format(payment.amount, payment.currency)})
            return redirect("payment_detail", pk=payment.pk)
    return render(request, "receivables/payment_form.html", {"form": form})


def _payment(request: HttpRequest, pk: int) -> Payment:
    return get_object_or_404(Payment.objects.select_related("customer"), organization=request.organization, pk=pk)


def _payment_locked(request: HttpRequest, pk: int) -> Payment:
    return get_object_or_404(Payment.objects.select_for_update(of=("self",), no_key=True),
                             organization=request.organization, pk=pk)


def _open_invoices_for(request: HttpRequest, payment: Payment):
    # The payment's currency first; invoices in other currencies after them (a cross-currency receipt).
    return (selectors.open_invoices(request.organization)
            .filter(customer_id=payment.customer_id)
            .annotate(balance_due=F("total_amount") - F("applied_amount"),
                      other_currency=Case(When(currency=payment.currency, then=Value(0)), default=Value(1)))
            .order_by("other_currency", "due_date", "issue_date", "pk")[:200])


def _detail(request: HttpRequest, payment: Payment, form: PaymentAllocateForm | None = None) -> HttpResponse:
    return render(request, "receivables/payment_detail.html", {
        "payment": payment,
        "allocations": Allocation.objects.filter(organization=request.organization, payment=payment)
        .select_related("invoice").order_by("applied_on", "pk"),
        "allocate_form": form or PaymentAllocateForm(_open_invoices_for(request, payment),
                                                     payment_currency=payment.currency),
        "can_allocate": role_at_least(request, Role.COLLECTOR) and payment.unapplied_amount > 0
        and payment.reversed_on is None,
        "can_edit": role_at_least(request, Role.COLLECTOR) and payment.reversed_on is None,
        "can_reverse": role_at_least(request, Role.CREDIT_MANAGER) and payment.reversed_on is None,
        "refunds": payment.refunds.filter(organization=request.organization).order_by("refunded_on", "pk"),
    })


@organization_required
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _payment(request, pk))


@organization_required
@require_POST
def payment_allocate(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply the payment: explicit amounts per open invoice, or oldest-due-first (`auto`)."""
    payment = _payment(request, pk)
    form = PaymentAllocateForm(_open_invoices_for(request, payment), request.POST, payment_currency=payment.currency)
    auto = "auto" in request.POST
    if auto or form.is_valid():
        try:
            allocations = services.payment_allocate(organization=request.organization, actor=request.user,
                                                    payment=payment, allocations=None if auto else form.allocations())
        except DomainError as exc:
            if not auto:
                form_error_from_domain(form, exc)
            else:
                form = PaymentAllocateForm(_open_invoices_for(request, payment), payment_currency=payment.currency)
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("%(count)s allocation(s) made.") % {"count": len(allocations)})
            return redirect("payment_detail", pk=payment.pk)
    return _detail(request, payment, form)


@organization_required
def payment_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a payment (date, amount, method, references) through `services.payment_update`, with
    the version check of every correction page."""

    def load(locked: bool = False) -> Payment:
        return _payment_locked(request, pk) if locked else _payment(request, pk)

    def done(payment: Payment) -> HttpResponse:
        messages.success(request, _("Payment %(payment)s saved.") % {"payment": payment})
        return redirect("payment_detail", pk=payment.pk)

    return correction_page(
        request, form_class=PaymentUpdateForm, load=load,
        save=lambda current, changes: services.payment_update(
            organization=request.organization, payment=current, actor=request.user, **changes),
        done=done, template="receivables/payment_edit.html",
        context=lambda payment: {"payment": payment, "applied": payment.amount - payment.unapplied_amount})


# --- undoing money: reverse, unapply, refund (docs/ledger.md) ----------------------------------

def _reopening(request: HttpRequest, payment: Payment) -> list[tuple[str, int, object]]:
    """The invoices a reversal would reopen: (number, id, cash of this payment still on it)."""
    from django.db.models import Sum

    rows = (Allocation.objects.filter(organization=request.organization, payment=payment)
            .values("invoice_id", "invoice__number").annotate(s=Sum("amount")).filter(s__gt=0).order_by("invoice_id"))
    return [(row["invoice__number"], row["invoice_id"], row["s"]) for row in rows]


@organization_required
def payment_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then reverse a returned or bounced payment (credit manager and up): lists the invoices
    that reopen; an optional fee is billed as a charges invoice."""
    from ..forms import PaymentReverseForm

    payment = _payment(request, pk)
    form = PaymentReverseForm(request.POST or None,
                              initial={"reversed_on": local_today(request.organization.timezone)})
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_reverse(organization=request.organization, actor=request.user, payment=payment,
                                     **form.cleaned_data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("Payment %(payment)s reversed; its invoices are open again.")
                             % {"payment": payment})
            return redirect("payment_detail", pk=payment.pk)
    return render(request, "receivables/payment_reverse.html", {
        "payment": payment, "form": form, "reopening": _reopening(request, payment),
        "allowed": role_at_least(request, Role.CREDIT_MANAGER)})


@organization_required
@require_POST
def payment_unapply(request: HttpRequest, pk: int, invoice_pk: int) -> HttpResponse:
    """Move this payment's cash on one invoice back to unapplied, today."""
    payment = _payment(request, pk)
    invoice = get_object_or_404(selectors.invoice_list(request.organization), pk=invoice_pk)
    try:
        services.payment_unapply(organization=request.organization, actor=request.user, payment=payment,
                                 invoice=invoice)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Cash moved off invoice %(number)s; it is unapplied now.")
                         % {"number": invoice.number})
    return redirect("payment_detail", pk=payment.pk)


@organization_required
@require_POST
def payment_refund(request: HttpRequest, pk: int) -> HttpResponse:
    """Pay unapplied cash back to the customer (never more than unapplied)."""
    from ..forms import PaymentRefundForm

    payment = _payment(request, pk)
    form = PaymentRefundForm(request.POST)
    if form.is_valid():
        try:
            services.payment_refund(organization=request.organization, actor=request.user, payment=payment,
                                    **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Refund recorded."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("payment_detail", pk=payment.pk)
