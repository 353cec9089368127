"""Factoring pages: facilities and their position, eligibility (choose invoices to assign), an
assignment (submit, approve, fund, export, notices, repurchase), the factor's statement import.
Thin: the same services and selectors as the API; roles are checked again by the services."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from receivables.exports import XLSX_MEDIA_TYPE
from receivables.models import Customer
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.models import Role
from tenancy.views import organization_required, role_at_least

from . import documents, selectors, services
from .forms import AsOfForm, FacilityForm, FundForm, RepurchaseForm, StatementForm
from .models import Assignment, AssignmentLine, AssignmentStatus, Facility, LineState


def _facility(request: HttpRequest, pk: int) -> Facility:
    return get_object_or_404(Facility, organization=request.organization, pk=pk)


def _assignment(request: HttpRequest, pk: int) -> Assignment:
    return get_object_or_404(Assignment.objects.select_related("facility"), organization=request.organization, pk=pk)


def _as_of(request: HttpRequest) -> dt.date:
    form = AsOfForm(request.GET)
    if form.is_valid() and form.cleaned_data["as_of"]:
        return form.cleaned_data["as_of"]
    return local_today(request.organization.timezone)


@organization_required
def facility_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    today = local_today(organization.timezone)
    rows = [(facility, selectors.position(organization, facility, today))
            for facility in selectors.facility_list(organization)]
    return render(request, "factoring/facility_list.html", {
        "rows": rows, "today": today, "can_admin": role_at_least(request, Role.ADMIN)})


@organization_required
def facility_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    organization = request.organization
    facility = _facility(request, pk) if pk else None
    form = FacilityForm(request.POST or None, instance=facility, organization=organization)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.FACILITY_FIELDS if name in form.cleaned_data}
        excluded = list(form.cleaned_data["excluded_customers"])
        try:
            if facility is None:
                facility = services.facility_create(organization=organization, actor=request.user,
                                                    excluded_customers=excluded, **fields)
            else:
                services.facility_update(organization=organization, actor=request.user, facility=facility,
                                         excluded_customers=excluded, **fields)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Facility %(name)s saved.") % {"name": facility.name})
            return redirect("factoring:facility_detail", pk=facility.pk)
    return render(request, "factoring/facility_form.html", {"form": form, "facility": facility})


@organization_required
def facility_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization
    facility = _facility(request, pk)
    as_of = _as_of(request)
    return render(request, "factoring/facility_detail.html", {
        "facility": facility, "as_of": as_of, "position": selectors.position(organization, facility, as_of),
        "assignments": selectors.assignment_list(organization, facility=facility)[:50],
        "can_admin": role_at_least(request, Role.ADMIN),
        "can_propose": role_at_least(request, Role.CREDIT_MANAGER)})


@organization_required
def eligibility(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: every open invoice eligible or not, with reasons. POST: assign the chosen ones."""
    organization = request.organization
    facility = _facility(request, pk)
    as_of = _as_of(request)
    refused = []
    if request.method == "POST":
        try:
            assigned_on = dt.date.fromisoformat(request.POST.get("assigned_on", ""))
            ids = [int(value) for value in request.POST.getlist("invoice")]
        except ValueError:
            messages.error(request, _("Choose a date and at least one invoice."))
        else:
            try:
                assignment = services.assignment_create(organization=organization, actor=request.user,
                                                        facility=facility, invoices=ids, assigned_on=assigned_on)
            except services.AssignmentRefused as error:
                refused = error.invoices
                messages.error(request, error.message)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Assignment %(number)s drafted.") % {"number": assignment.number})
                return redirect("factoring:assignment_detail", pk=assignment.pk)
    result = selectors.eligibility(organization, facility, as_of)
    customers = dict(Customer.objects.filter(organization=organization,
                                             pk__in={row.customer_id for row in result.rows})
                     .values_list("pk", "name"))
    only = request.GET.get("show", "eligible")
    rows = [(row, customers.get(row.customer_id, "")) for row in
            sorted(result.rows, key=lambda row: (row.due_date, row.invoice_id)) if only == "all" or row.eligible]
    return render(request, "factoring/eligibility.html", {
        "facility": facility, "as_of": as_of, "result": result, "rows": rows[:2000], "shown": len(rows),
        "show": only, "refused": refused, "eligible_count": len(result.eligible),
        "can_propose": role_at_least(request, Role.CREDIT_MANAGER)})


@organization_required
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization
    assignment = _assignment(request, pk)
    lines = list(selectors.assignment_lines(organization, assignment))
    customers = {}
    for line in lines:
        customers.setdefault(line.customer_id, line.customer)
    today = local_today(organization.timezone)
    return render(request, "factoring/assignment_detail.html", {
        "assignment": assignment, "facility": assignment.facility, "lines": lines,
        "customers": sorted(customers.values(), key=lambda c: c.name),
        "fund_form": FundForm(initial={"funded_on": today,
                                       "amount_received": assignment.advance_total - assignment.fee_total}),
        "repurchase_form": RepurchaseForm(initial={"repurchased_on": today}),
        "can_propose": role_at_least(request, Role.CREDIT_MANAGER),
        "can_admin": role_at_least(request, Role.ADMIN), "Status": AssignmentStatus, "LineState": LineState})


ACTIONS = {"submit": services.assignment_submit, "approve": services.assignment_approve,
           "cancel": services.assignment_cancel}


@organization_required
@require_POST
def assignment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    organization = request.organization
    assignment = _assignment(request, pk)
    try:
        if action == "fund":
            form = FundForm(request.POST)
            if not form.is_valid():
                raise DomainError(" ".join(e for errors in form.errors.values() for e in errors))
            data = form.cleaned_data
            services.assignment_fund(organization=organization, actor=request.user, assignment=assignment,
                                     funded_on=data["funded_on"], amount_received=data["amount_received"],
                                     fee_deducted=data["fee_deducted"],
                                     interest_deducted=data["interest_deducted"] or "0")
        elif action in ACTIONS:
            ACTIONS[action](organization=organization, actor=request.user, assignment=assignment)
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Done."))
    return redirect("factoring:assignment_detail", pk=assignment.pk)


@organization_required
@require_POST
def repurchase(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization
    line = get_object_or_404(AssignmentLine.objects.select_related("facility"), organization=organization, pk=pk)
    form = RepurchaseForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(" ".join(e for errors in form.errors.values() for e in errors))
        services.line_repurchase(organization=organization, actor=request.user, line=line,
                                 repurchased_on=form.cleaned_data["repurchased_on"], note=form.cleaned_data["note"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Invoice repurchased; it is yours again and dunning resumes."))
    return redirect("factoring:assignment_detail", pk=line.assignment_id)


@organization_required
def schedule_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    assignment = _assignment(request, pk)
    if fmt == "csv":
        response = HttpResponse(documents.schedule_csv(assignment), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(documents.schedule_xlsx(assignment), content_type=XLSX_MEDIA_TYPE)
    elif fmt == "pdf":
        response = HttpResponse(documents.schedule_pdf(assignment), content_type="application/pdf")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{assignment.number}.{fmt}"'
    return response


@organization_required
def notice(request: HttpRequest, pk: int, customer_pk: int) -> HttpResponse:
    assignment = _assignment(request, pk)
    customer = get_object_or_404(Customer, organization=request.organization, pk=customer_pk)
    try:
        pdf = documents.notice_pdf(assignment, customer, today=local_today(request.organization.timezone))
    except DomainError:
        raise Http404 from None
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="notice-{assignment.number}-{customer.pk}.pdf"'
    return response


@organization_required
def statement_import(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization
    facility = _facility(request, pk)
    form = StatementForm(request.POST or None, request.FILES or None)
    row_errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            statement = services.statement_import(organization=organization, actor=request.user, facility=facility,
                                                  file_name=upload.name, content=upload.read())
        except services.StatementInvalid as error:
            row_errors = error.rows
            form.add_error(None, error.message)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Statement imported: %(rows)s rows.") % {"rows": statement.row_count})
            return redirect("factoring:facility_detail", pk=facility.pk)
    return render(request, "factoring/statement_import.html", {
        "facility": facility, "form": form, "row_errors": row_errors,
        "statements": facility.statements.all()[:20]})


@organization_required
@require_POST
def seller_settle(request: HttpRequest, pk: int) -> HttpResponse:
    facility = _facility(request, pk)
    try:
        count = services.seller_collections_settle(organization=request.organization, actor=request.user,
                                                   facility=facility)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(count)s paid invoices: advance repaid.") % {"count": count})
    return redirect("factoring:facility_detail", pk=facility.pk)
