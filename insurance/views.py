"""Insurance pages: policies, buyer cover (beside the credit limit), deadlines, declarations, claims.
Thin: the same services and selectors as the API."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.forms import form_errors_text
from tenancy.models import Role
from tenancy.money import quantize
from tenancy.views import organization_required, role_at_least

from . import selectors, services
from .claim_file import claim_file_zip
from .forms import (
    ClaimDecideForm,
    ClaimForm,
    ClaimPayForm,
    CoverDecisionForm,
    CoverRequestForm,
    DeclarationForm,
    PolicyForm,
)
from .models import Claim, CoverRequest, Policy, RequestStatus


def _as_of(request: HttpRequest):
    """?as_of= when it is a real date (2026-02-30 is not: today, never a 500), else the organization's today."""
    try:
        as_of = parse_date(request.GET.get("as_of") or "")
    except ValueError:
        as_of = None
    if as_of is not None and not 1900 <= as_of.year <= 2999:  # the bounds every date input keeps (tenancy/bounds.py)
        as_of = None
    return as_of or local_today(request.organization.timezone)


def _id(value) -> int:
    """A posted id in ASCII digits (anything else is no such row: 404)."""
    return int(value) if value and value.isascii() and value.isdigit() else 0


def _run(request: HttpRequest, action, success: str):
    try:
        result = action()
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, success)
    return result


def _form_errors(request: HttpRequest, form) -> None:
    messages.error(request, form_errors_text(form))


@organization_required
def policy_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            policy = _run(request, lambda: services.policy_create(organization=organization, actor=request.user,
                                                                  **form.cleaned_data), _("Policy recorded."))
            if policy:
                return redirect("insurance:policy_detail", pk=policy.pk)
        else:
            _form_errors(request, form)
    today = local_today(organization.timezone)
    rows = selectors.insured_deadlines(organization, as_of=today)
    return render(request, "insurance/policy_list.html", {
        "policies": selectors.policy_list(organization), "counts": selectors.deadline_counts(rows),
        "form": PolicyForm(initial={"currency": organization.base_currency}),
        "can_admin": role_at_least(request, Role.ADMIN), "alerts": selectors.alert_list(organization)[:20],
        "claims_open": selectors.claim_list(organization).exclude(status__in=["paid", "rejected"])[:20],
    })


@organization_required
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization
    policy = get_object_or_404(Policy, organization=organization, pk=pk)
    return render(request, "insurance/policy_detail.html", {
        "policy": policy, "premium": selectors.premium_report(organization, policy),
        "requests": selectors.cover_request_list(organization).filter(policy=policy)[:100],
    })


@organization_required
def customer_cover(request: HttpRequest, pk: int) -> HttpResponse:
    """A buyer's cover beside its credit limit, cover history, its insured invoices' deadlines,
    declarations and claims; notify and claim from here."""
    organization = request.organization
    customer = get_object_or_404(Customer, organization=organization, pk=pk)
    as_of = _as_of(request)
    from credit.models import CreditProfile

    profile = CreditProfile.objects.filter(organization=organization, customer=customer).first()
    covers = selectors.covers_as_of(organization, as_of, customer_ids=[customer.pk])
    policies = list(selectors.policy_list(organization))
    rows = selectors.insured_deadlines(organization, as_of=as_of, customer_id=customer.pk)
    open_requests = [r for r in selectors.cover_history(organization, customer) if r.status != RequestStatus.DECIDED]
    return render(request, "insurance/customer_cover.html", {
        "customer": customer, "as_of": as_of, "profile": profile,
        "covers": [(p, covers.get((p.pk, customer.pk))) for p in policies], "policies": policies,
        "history": selectors.cover_history(organization, customer)[:50], "open_requests": open_requests,
        "rows": rows, "declarations": selectors.declaration_list(organization).filter(customer=customer)[:50],
        "claims": selectors.claim_list(organization).filter(customer=customer)[:50],
        "request_form": CoverRequestForm(), "decision_form": CoverDecisionForm(),
        "declaration_form": DeclarationForm(), "claim_form": ClaimForm(),
        "can_collect": role_at_least(request, Role.COLLECTOR),
        "can_decide": role_at_least(request, Role.CREDIT_MANAGER),
    })


@require_POST
@organization_required
def customer_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    organization, actor = request.organization, request.user
    customer = get_object_or_404(Customer, organization=organization, pk=pk)
    policy = get_object_or_404(Policy, organization=organization, pk=_id(request.POST.get("policy")))
    invoices = list(Invoice.objects.filter(organization=organization, customer=customer,
                                           pk__in=[_id(v) for v in request.POST.getlist("invoices") if _id(v)]))
    forms = {"cover": CoverRequestForm, "declare": DeclarationForm, "claim": ClaimForm}
    form = forms[action](request.POST) if action in forms else None
    if form is None:
        return redirect("insurance:customer", pk=pk)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("insurance:customer", pk=pk)
    data = form.cleaned_data
    if action == "cover":
        _run(request, lambda: services.cover_request_create(
            organization=organization, actor=actor, policy=policy, customer=customer,
            request_type=data["request_type"], amount=data["amount"] or 0, discretionary=data["discretionary"]),
            _("Cover request recorded."))
    elif action == "declare":
        _run(request, lambda: services.declaration_create(
            organization=organization, actor=actor, policy=policy, customer=customer, kind=data["kind"],
            invoices=invoices, new_due_date=data["new_due_date"], notes=data["notes"]),
            _("Declaration recorded."))
    else:
        claim = _run(request, lambda: services.claim_create(
            organization=organization, actor=actor, policy=policy, customer=customer, invoices=invoices,
            recoveries=data["recoveries"] or 0), _("Claim drafted."))
        if claim:
            return redirect("insurance:claim_detail", pk=claim.pk)
    return redirect("insurance:customer", pk=pk)


@require_POST
@organization_required
def cover_decide(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization
    cover = get_object_or_404(CoverRequest, organization=organization, pk=pk)
    form = CoverDecisionForm(request.POST)
    if form.is_valid():
        _run(request, lambda: services.cover_request_decide(organization=organization, actor=request.user,
                                                            request=cover, **form.cleaned_data),
             _("Decision recorded."))
    else:
        _form_errors(request, form)
    return redirect("insurance:customer", pk=cover.customer_id)


@organization_required
def deadlines(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    as_of = _as_of(request)
    rows = selectors.insured_deadlines(organization, as_of=as_of)
    state = request.GET.get("state") or ""
    shown = [r for r in rows if r.state == state] if state in selectors.DeadlineState.ALL else rows
    order = {"missed": 0, "due_soon": 1, "notified": 2, "ok": 3, "claimed": 4}
    shown.sort(key=lambda r: (order[r.state], r.days_left if r.days_left is not None else 10**6, r.invoice_id))
    return render(request, "insurance/deadlines.html", {
        "as_of": as_of, "rows": shown[:1000], "total": len(shown), "counts": selectors.deadline_counts(rows),
        "state": state, "states": [(s, selectors.DeadlineState.LABELS[s]) for s in selectors.DeadlineState.ALL]})


@organization_required
def declaration_list(request: HttpRequest) -> HttpResponse:
    return render(request, "insurance/declarations.html",
                  {"declarations": selectors.declaration_list(request.organization)[:200]})


@organization_required
def claim_list(request: HttpRequest) -> HttpResponse:
    return render(request, "insurance/claims.html", {"claims": selectors.claim_list(request.organization)[:200]})


@organization_required
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization
    claim = get_object_or_404(selectors.claim_list(organization), pk=pk)
    return render(request, "insurance/claim_detail.html", {
        "claim": claim, "decide_form": ClaimDecideForm(),
        "pay_form": ClaimPayForm(initial={"amount": quantize(claim.accepted_amount, claim.currency)
                                          if claim.accepted_amount is not None else None}),
        "can_decide": role_at_least(request, Role.CREDIT_MANAGER)})


@require_POST
@organization_required
def claim_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    organization, actor = request.organization, request.user
    claim = get_object_or_404(Claim, organization=organization, pk=pk)
    if action == "file":
        _run(request, lambda: services.claim_file(organization=organization, actor=actor, claim=claim),
             _("Claim filed."))
    elif action in ("decide", "pay"):
        form = (ClaimDecideForm if action == "decide" else ClaimPayForm)(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
        elif action == "decide":
            _run(request, lambda: services.claim_decide(organization=organization, actor=actor, claim=claim,
                                                        **form.cleaned_data), _("Decision recorded."))
        else:
            _run(request, lambda: services.claim_pay(organization=organization, actor=actor, claim=claim,
                                                     **form.cleaned_data), _("Indemnity recorded."))
    return redirect("insurance:claim_detail", pk=pk)


@organization_required
def claim_download(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_object_or_404(Claim.objects.select_related("policy", "customer"), organization=request.organization,
                              pk=pk)
    response = HttpResponse(claim_file_zip(request.organization, claim), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="claim-{claim.pk}.zip"'
    return response
