"""Customer pages: list (filters, sort, download, bulk actions), detail with statement and aging, create, edit."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy.context_processors import Capabilities
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.forms import form_error_from_domain
from tenancy.models import Role
from tenancy.views import organization_required, paginate, role_at_least

from .. import selectors, services
from ..exports import Column, choice_labels, export_format, list_export_response, money_cell
from ..filters import CUSTOMER_SORTS, CustomerFilter
from ..forms import CustomerEditForm, CustomerForm, StaleEdit, VersionedForm
from ..listactions import bulk_actions
from ..markers import invoice_markers
from ..models import Customer, CustomerStatus, Segment
from ..panels import customer_holds, customer_links, customer_panels_build, statement_figures
from .common import as_of_from
from .lists import back, export_or_none, list_filterset, selected_rows, sorted_rows, ui_fields


def _customer_columns() -> list[Column]:
    segments, statuses = choice_labels(Segment.choices), choice_labels(CustomerStatus.choices)
    return [
        Column(_("Name"), lambda c: c.name),
        Column(_("Legal name"), lambda c: c.legal_name),
        Column(_("Registration number"), lambda c: c.registration_number),
        Column(_("External id"), lambda c: c.external_id or ""),
        Column(_("Segment"), lambda c: segments.get(c.segment, c.segment)),
        Column(_("Status"), lambda c: statuses.get(c.status, c.status)),
        Column(_("Terms (days)"), lambda c: c.payment_terms_days),
        Column(_("Currency"), lambda c: c.currency),
        Column(_("Outstanding"), lambda c: money_cell(c.outstanding, c.currency)),
        Column(_("Contact emails"), lambda c: ", ".join(c.contact_emails or [])),
    ]


@organization_required
def customer_list(request: HttpRequest) -> HttpResponse:
    """Customers narrowed by the API's CustomerFilter, the largest open balance first by default;
    the same rows as CSV or XLSX with `?export=`."""
    filterset = list_filterset(CustomerFilter, request, selectors.customer_list(request.organization))
    customers, sort = sorted_rows(filterset.qs, CUSTOMER_SORTS, request)
    download = export_or_none(request, filterset, customers, stem="customers", title=_("Customers"),
                              columns=_customer_columns())
    if download is not None:
        return download
    page = paginate(request, customers)
    # A blacklisted or held customer never reads "Active": its hold (credit's, registered) shows instead.
    holds = customer_holds(request.organization, [c.pk for c in page], local_today(request.organization.timezone))
    for customer in page:
        customer.holds = holds.get(customer.pk, [])
    return render(request, "receivables/customer_list.html", {
        "page": page, "filter_fields": ui_fields(filterset), "sort": sort,
        "filtered": filterset.is_bound and any(filterset.form.cleaned_data.get(f) for f in CustomerFilter.UI_FIELDS),
        "can_edit": role_at_least(request, Role.COLLECTOR), "bulk_actions": bulk_actions(request, "customers"),
    })


@organization_required
@require_POST
def customer_bulk_export(request: HttpRequest) -> HttpResponse:
    """The selected customers (`ids`, all of the organization or none) as CSV or XLSX."""
    fmt = export_format(request)
    rows = selected_rows(request, selectors.customer_list(request.organization)) if fmt else None
    if rows is None:
        return back(request, reverse("customer_list"))
    return list_export_response(organization=request.organization, stem="customers", title=_("Customers"),
                                columns=_customer_columns(), objects=rows.order_by(*CUSTOMER_SORTS["-outstanding"]),
                                fmt=fmt)


@organization_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer hub: figures, aging, statement and open items here; what credit and dunning know
    (limit, score, hold, collector, disputes, promises, plans, the timeline) from their registered panels."""
    organization = request.organization
    customer = get_object_or_404(Customer, organization=organization, pk=pk)
    as_of, as_of_form = as_of_from(request)
    today = local_today(organization.timezone)
    holds = customer_holds(organization, [customer.pk], today).get(customer.pk, [])
    statement = selectors.customer_statement(organization, customer, as_of)
    context = {
        "customer": customer, "as_of": as_of, "as_of_form": as_of_form, "today": today,
        "open_invoices": selectors.open_invoices(organization).filter(customer=customer)
        .order_by("due_date", "pk")[:100],
        "payments": selectors.payment_list(organization).filter(customer=customer)[:20],
        "unapplied": sorted(selectors.customer_unapplied(organization, customer).items()),
        "statement": statement, "figures": statement_figures(statement),
        "holds": holds, "refused": any(hold.refuses for hold in holds),
        "panels": customer_panels_build(organization, customer, today),
        "links": customer_links(customer, Capabilities(getattr(request.membership, "role", None))),
        "can_edit": role_at_least(request, Role.COLLECTOR),
    }
    found = invoice_markers(organization, [invoice.pk for invoice in context["open_invoices"]])
    context["markers"] = [(invoice, marker) for invoice in context["open_invoices"]
                          for marker in found.get(invoice.pk, [])]
    try:
        aging = selectors.aging_report(organization, as_of, customer_id=customer.pk)
    except DomainError as exc:
        context["aging_error"] = exc.message
    else:
        context["aging"] = aging
        context["aging_cells"] = list(zip(aging.buckets, aging.totals, strict=True))
    return render(request, "receivables/customer_detail.html", context)


@organization_required
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm.for_organization(request.organization, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(organization=request.organization, actor=request.user,
                                                **form.cleaned_data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect("customer_detail", pk=customer.pk)
    return render(request, "receivables/customer_form.html", {"form": form, "customer": None})


@organization_required
def customer_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a customer through `services.customer_update`. The form carries the `updated_at` the
    user opened; a save over a change made meanwhile is refused and the current values are shown."""
    customer = get_object_or_404(Customer, organization=request.organization, pk=pk)
    form = CustomerEditForm.for_customer(customer, request.POST or None)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            # Compared under the service's row lock, as the API's If-Match is: two saves cannot both win.
            customer = services.customer_update(organization=request.organization, customer=customer,
                                                actor=request.user, precondition=form.fresh_check, **form.changes())
        except StaleEdit:
            stale = True
            customer = get_object_or_404(Customer, organization=request.organization, pk=pk)
            form = CustomerEditForm.for_customer(customer)  # what is there now, to review and save again
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
            return redirect("customer_detail", pk=customer.pk)
    return render(request, "receivables/customer_form.html", {
        "form": form, "customer": customer, "stale_message": VersionedForm.STALE_MESSAGE if stale else None})
