"""Credit pages: a customer's credit file and score, the portfolio, the approvals inbox."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from receivables.models import Customer
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.forms import form_errors_text
from tenancy.models import Role
from tenancy.views import organization_required, paginate, role_at_least

from . import hub, selectors, services
from .exports import portfolio_download
from .filters import CreditCustomerFilter
from .forms import (
    BlacklistForm,
    DecisionForm,
    DocumentForm,
    FinancialStatementForm,
    LimitRequestForm,
    ProfileForm,
    SignalForm,
)
from .models import CreditDocument, LimitRequest


@organization_required
def customer_credit(request: HttpRequest, pk: int) -> HttpResponse:
    """Read-only: a customer without a credit file shows "no credit file yet"; the POST actions create it."""
    organization = request.organization
    customer = get_object_or_404(Customer, organization=organization, pk=pk)
    profile = selectors.credit_file(organization, customer)
    today = local_today(organization.timezone)
    history = selectors.score_history(organization, customer)
    profile_initial = {f: getattr(profile, f) for f in services.PROFILE_FIELDS} if profile else {}
    financials = list(profile.financials.all()[:5]) if profile else []
    stale = financials[0] if financials and selectors.statement_is_stale(financials[0], today) else None
    return render(request, "credit/customer_credit.html", {
        "customer": customer, "profile": profile, "score": profile.latest_score if profile else None,
        "history": history,
        "exposure": selectors.customer_exposure(organization, customer, today),
        "hold_reasons": selectors.hold_reasons(organization, customer, today),
        "financials": financials,
        "stale_statement": stale,
        "stale_until": selectors.statement_usable_until(stale) if stale else None,
        "statement_max_age": selectors.STATEMENT_MAX_AGE_MONTHS,
        "signals": profile.signals.all()[:20] if profile else [],
        "documents": profile.documents.select_related("uploaded_by")[:50] if profile else [],
        "financials_form": FinancialStatementForm(initial={"year": today.year - 1}), "document_form": DocumentForm(),
        "requests": LimitRequest.objects.filter(organization=organization, customer=customer)[:10],
        "profile_form": ProfileForm(initial=profile_initial), "signal_form": SignalForm(initial={"observed_on": today}),
        "limit_form": LimitRequestForm(),
        "blacklist_form": BlacklistForm(initial={"blacklisted": profile.blacklisted if profile else False,
                                                 "reason": profile.blacklist_reason if profile else ""}),
        "can_edit": role_at_least(request, Role.COLLECTOR),
        "can_decide": role_at_least(request, Role.CREDIT_MANAGER),
    })


def _run(request: HttpRequest, action, success: str) -> None:
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)


@require_POST
@organization_required
def customer_credit_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    organization, actor = request.organization, request.user
    customer = get_object_or_404(Customer, organization=organization, pk=pk)
    forms = {"profile": ProfileForm, "signal": SignalForm, "limit": LimitRequestForm, "blacklist": BlacklistForm,
             "financials": FinancialStatementForm, "document": DocumentForm}
    if action == "score":
        _run(request, lambda: services.customer_score(organization=organization, customer=customer, actor=actor),
             _("Customer re-scored."))
        return redirect("credit:customer", pk=pk)
    form = forms[action](request.POST, request.FILES) if action in forms else None
    if form is None:
        return redirect("credit:customer", pk=pk)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("credit:customer", pk=pk)
    data = form.cleaned_data
    runs = {
        "profile": (lambda: services.profile_update(organization=organization, actor=actor, customer=customer, **data),
                    _("Credit file saved.")),
        "signal": (lambda: services.signal_record(organization=organization, actor=actor, customer=customer, **data),
                   _("Signal recorded.")),
        "limit": (lambda: services.limit_request_create(organization=organization, actor=actor, customer=customer,
                                                        **data), _("Limit request sent for approval.")),
        "blacklist": (lambda: services.blacklist_set(organization=organization, actor=actor, customer=customer,
                                                     **data), _("Blacklist updated.")),
        "financials": (lambda: services.financial_statement_set(organization=organization, actor=actor,
                                                                customer=customer, **data),
                       _("Financial statement saved.")),
        "document": (lambda: services.document_attach(organization=organization, actor=actor, customer=customer,
                                                      **data), _("Document attached.")),
    }
    _run(request, *runs[action])
    return redirect("credit:customer", pk=pk)


@organization_required
def customer_document(request: HttpRequest, pk: int, document_pk: int) -> FileResponse:
    """Download a credit document (scoped: another organization's document is a 404)."""
    document = get_object_or_404(CreditDocument, organization=request.organization, profile__customer_id=pk,
                                 pk=document_pk)
    # Stored under a random name (tenancy.storage): the download is named after the document's title.
    suffix = "." + document.file.name.rsplit(".", 1)[-1] if "." in document.file.name.rsplit("/", 1)[-1] else ""
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=f"{document.title}{suffix}")


@organization_required
def portfolio(request: HttpRequest) -> HttpResponse:
    """Exposure by grade, over-limit, reviews and alerts; and the credit customer list, searched by
    name, legal name, number or USCC (CreditCustomerFilter, the API's customer search)."""
    organization = request.organization
    today = local_today(organization.timezone)
    search = request.GET.get("search", "").strip()
    customers = CreditCustomerFilter(
        {"search": search} if search else None, request=request,
        queryset=Customer.objects.filter(organization=organization)
        .select_related("credit_profile__latest_score").order_by("name", "pk")).qs
    if download := portfolio_download(request, customers, today):
        return download
    page = paginate(request, customers)
    ids = [customer.pk for customer in page]
    exposure_of = selectors.exposures(organization, today, customer_ids=ids) if ids else {}
    holds = hub.customer_holds(organization, ids, today) if ids else {}
    rows = [{"customer": customer, "profile": getattr(customer, "credit_profile", None),
             "exposure": exposure_of.get(customer.pk, selectors.Exposure()), "holds": holds.get(customer.pk, [])}
            for customer in page]
    return render(request, "credit/portfolio.html", {
        "portfolio": selectors.portfolio(organization, today),
        "alerts": selectors.alert_list(organization)[:50],
        "reviews": selectors.open_reviews(organization)[:50],
        "search": search, "page": page, "rows": rows,
    })


@organization_required
def approvals(request: HttpRequest) -> HttpResponse:
    return render(request, "credit/approvals.html", {
        "requests": selectors.pending_requests(request.organization),
        "can_decide": role_at_least(request, Role.CREDIT_MANAGER), "form": DecisionForm(),
    })


@require_POST
@organization_required
def approval_decide(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization
    limit_request = get_object_or_404(LimitRequest, organization=organization, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        comment = form.cleaned_data["comment"]
        if form.cleaned_data["decision"] == "approve":
            _run(request, lambda: services.limit_request_approve(organization=organization, actor=request.user,
                                                                 request=limit_request, comment=comment),
                 _("Approved."))
        else:
            _run(request, lambda: services.limit_request_reject(organization=organization, actor=request.user,
                                                                request=limit_request, reason=comment),
                 _("Rejected."))
    return redirect("credit:approvals")
