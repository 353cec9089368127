"""Every write of credit management: policy, credit files, financials, signals, scoring,
limit requests and their approvals, blacklist, the credit-hold check, reviews and alerts.

Keyword-only and atomic; roles are checked here (collectors maintain the file and propose
limits, credit managers decide, admins decide above the organization's threshold and set
policy); every change is audited. Scoring many customers is a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables.models import Customer
from receivables.selectors import FxTable
from tenancy.dates import local_today
from tenancy.db import filter_in, object_builder, objects_insert, objects_update
from tenancy.errors import DomainError, ErrorCode, PermissionDenied
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, parse_amount, validate_currency
from tenancy.services import Actor, audit_record, model_check, role_require, same_organization_check

from . import selectors
from .cover import cover_in_force, cover_provided
from .models import (
    AlertKind,
    CreditAlert,
    CreditDocument,
    CreditPolicy,
    CreditProfile,
    CreditReview,
    CreditScore,
    ExternalSignal,
    FinancialStatement,
    HoldMode,
    LimitApprovalStep,
    LimitRequest,
    LimitRequestStatus,
    Severity,
    SignalKind,
    StepDecision,
)
from .scoring import MODEL_VERSION, bands_problem, scorecard, weights_problem
from .uscc import uscc_normalize, uscc_problem

CREDIT_HOLD = ErrorCode.CREDIT_HOLD
SCORE_BATCH = 2000  # rows per INSERT: large enough to amortise, small enough to keep statements sane
GOOD_GRADES = ("A", "B")
PROFILE_FIELDS = ("uscc", "registry_id", "founding_year", "industry", "country", "ownership", "is_manufacturer")
FIGURES = ("revenue", "ebit", "net_income", "current_assets", "current_liabilities", "total_assets",
           "total_liabilities", "retained_earnings", "equity")
POLICY_FIELDS = ("weights", "bands", "grade_policy", "provisional_missing_weight", "min_paid_invoices", "hold_mode",
                 "hold_overdue_days", "manager_approval_limit", "review_interval_months", "concentration_percent",
                 "weak_grades_review_months", "hold_counts_disputed", "hold_counts_payment_plans",
                 "size_reference_currency", "insured_hold", "uninsured_appetite")


def _event(organization: Organization, type_: str, payload: dict[str, Any]) -> None:
    from tenancy import webhooks

    if type_ in webhooks.EVENT_TYPES:
        webhooks.event_emit(organization=organization, type=type_, payload=payload)


def _events(organization: Organization, type_: str, payloads: list[dict[str, Any]]) -> None:
    """Many events of one type in a fixed number of statements (alerts of a whole portfolio)."""
    from tenancy import webhooks

    if payloads:
        webhooks.events_emit(organization=organization, type=type_, payloads=payloads)


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --- policy --------------------------------------------------------------------------------

def policy_ensure(organization: Organization) -> CreditPolicy:
    policy, _created = CreditPolicy.objects.get_or_create(organization=organization)
    return policy


@transaction.atomic
def policy_update(*, organization: Organization, actor: Actor, **changes: Any) -> CreditPolicy:
    """Change the organization's scoring weights, bands, grade policy, hold and approval rules (admins)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise DomainError(_("Unknown credit policy fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    if "weights" in changes and (problem := weights_problem(changes["weights"])):
        raise DomainError(_("Weights: %(problem)s.") % {"problem": problem}, field="weights")
    if "bands" in changes and (problem := bands_problem(changes["bands"])):
        raise DomainError(_("Grade bands: %(problem)s.") % {"problem": problem}, field="bands")
    if "size_reference_currency" in changes:
        changes["size_reference_currency"] = validate_currency(changes["size_reference_currency"])
    if "uninsured_appetite" in changes:
        changes["uninsured_appetite"] = parse_amount(changes["uninsured_appetite"], field="uninsured_appetite",
                                                     allow_zero=True, currency=organization.base_currency)
    policy = CreditPolicy.objects.select_for_update(no_key=True).get(pk=policy_ensure(organization).pk)
    before = {name: getattr(policy, name) for name in changes}
    for name, value in changes.items():
        setattr(policy, name, value)
    model_check(policy, exclude=("organization",))
    policy.save()
    audit_record(organization=organization, actor=actor, action="credit.policy_updated", obj=policy,
                 before=before, after=changes)
    return policy


# --- credit file ---------------------------------------------------------------------------

def profile_ensure(*, organization: Organization, customer: Customer) -> CreditProfile:
    """The customer's credit file, created empty the first time it is needed."""
    same_organization_check(organization, customer)
    profile, _created = CreditProfile.objects.get_or_create(
        customer=customer, defaults={"organization": organization, "country": customer.country})
    return profile


@transaction.atomic
def profile_update(*, organization: Organization, actor: Actor, customer: Customer, **changes: Any) -> CreditProfile:
    """Change a customer's registry data (founding year, industry, ownership, USCC...)."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise DomainError(_("Unknown credit file fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    profile = profile_ensure(organization=organization, customer=customer)
    if changes.get("uscc"):
        changes["uscc"] = uscc_normalize(changes["uscc"])
        if problem := uscc_problem(changes["uscc"]):
            raise DomainError(_("Unified social credit code %(code)s: %(problem)s.")
                              % {"code": changes["uscc"], "problem": problem}, field="uscc")
    if changes.get("founding_year") and not 1800 <= int(changes["founding_year"]) <= local_today(
            organization.timezone).year:
        raise DomainError(_("The founding year must be between 1800 and this year."), field="founding_year")
    before = {name: getattr(profile, name) for name in changes}
    for name, value in changes.items():
        setattr(profile, name, value)
    model_check(profile, exclude=("organization", "customer", "latest_score"))
    profile.save()
    audit_record(organization=organization, actor=actor, action="credit.profile_updated", obj=profile,
                 before=before, after=changes)
    return profile


@transaction.atomic
def financial_statement_set(*, organization: Organization, actor: Actor, customer: Customer, year: int,
                            market_value_equity: Any = None, working_capital: Any = None,
                            **figures: Any) -> FinancialStatement:
    """Record (or correct) one year's financial statement; working capital defaults to CA - CL."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    if set(figures) != set(FIGURES):
        missing, unknown = set(FIGURES) - set(figures), set(figures) - set(FIGURES)
        raise DomainError(_("Financial statement: missing %(missing)s; unknown %(unknown)s.")
                          % {"missing": ", ".join(sorted(missing)) or "-", "unknown": ", ".join(sorted(unknown)) or "-"})
    signed = {"ebit", "net_income", "retained_earnings", "equity"}
    base = organization.base_currency
    values = {}
    for name, raw in figures.items():
        values[name] = (_signed_amount(raw, field=name, currency=base) if name in signed
                        else parse_amount(raw, field=name, allow_zero=True, currency=base))
    if values["total_assets"] <= 0:
        raise DomainError(_("Total assets must be more than zero."), field="total_assets")
    values["working_capital"] = (_signed_amount(working_capital, field="working_capital", currency=base)
                                 if working_capital not in (None, "")
                                 else values["current_assets"] - values["current_liabilities"])
    values["market_value_equity"] = (None if market_value_equity in (None, "")
                                     else parse_amount(market_value_equity, field="market_value_equity",
                                                       allow_zero=True, currency=base))
    profile = profile_ensure(organization=organization, customer=customer)
    statement, created = FinancialStatement.objects.update_or_create(
        profile=profile, year=int(year), defaults={"organization": organization, **values})
    audit_record(organization=organization, actor=actor, action="credit.financials_set", obj=statement,
                 after={"year": year, "created": created, **values})
    return statement


def _signed_amount(raw: Any, *, field: str, currency: str) -> Decimal:
    """A figure that may be negative (a loss), written and rounded as strictly as any amount."""
    if isinstance(raw, str):
        negative, magnitude = raw.startswith("-"), raw.removeprefix("-")
    else:  # a Decimal or int from a form or the API, already a number
        negative = isinstance(raw, Decimal | int) and not isinstance(raw, bool) and raw < 0
        magnitude = -raw if negative else raw
    value = parse_amount(magnitude, field=field, allow_zero=True, currency=currency)
    return -value if negative else value


DOCUMENT_EXTENSIONS = ("pdf", "png", "jpg", "jpeg", "xlsx", "xls", "docx", "doc", "csv", "txt")
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024


@transaction.atomic
def document_attach(*, organization: Organization, actor: Actor, customer: Customer, title: str,
                    file: Any) -> CreditDocument:
    """Attach a document (accounts, registry extract, insurer report...) to a customer's credit file."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    title = title.strip()
    if not title:
        raise DomainError(_("Give the document a title."), field="title")
    extension = file.name.rsplit(".", 1)[-1].lower() if "." in file.name else ""
    if extension not in DOCUMENT_EXTENSIONS:
        raise DomainError(_("%(name)s: only %(types)s files can be attached.")
                          % {"name": file.name, "types": ", ".join(DOCUMENT_EXTENSIONS)}, field="file")
    if file.size > DOCUMENT_MAX_BYTES:
        raise DomainError(_("%(name)s is larger than 10 MB.") % {"name": file.name}, field="file")
    profile = profile_ensure(organization=organization, customer=customer)
    document = CreditDocument(organization=organization, profile=profile, title=title[:200], file=file,
                              uploaded_by=actor if getattr(actor, "pk", None) else None)
    document.save()
    audit_record(organization=organization, actor=actor, action="credit.document_attached", obj=document,
                 after={"title": document.title, "file": document.file.name, "size": file.size})
    return document


@transaction.atomic
def signal_record(*, organization: Organization, actor: Actor, customer: Customer, kind: str, description: str,
                  observed_on: dt.date, severity: str = Severity.MEDIUM, source: str = "manual") -> ExternalSignal:
    """Record an external signal (litigation, registry change, news, insurer grade) and raise an alert."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    if kind not in SignalKind.values:
        raise DomainError(_("Unknown signal kind %(kind)s.") % {"kind": kind}, field="kind")
    if severity not in Severity.values:
        raise DomainError(_("Unknown severity %(severity)s.") % {"severity": severity}, field="severity")
    if not description.strip():
        raise DomainError(_("Describe the signal."), field="description")
    profile = profile_ensure(organization=organization, customer=customer)
    signal = ExternalSignal.objects.create(organization=organization, profile=profile, kind=kind, severity=severity,
                                           observed_on=observed_on, description=description.strip()[:500],
                                           source=source)
    audit_record(organization=organization, actor=actor, action="credit.signal_recorded", obj=signal,
                 after={"kind": kind, "severity": severity, "observed_on": observed_on, "description": description})
    alerts_create(organization=organization, alerts=[(
        customer, AlertKind.NEW_SIGNAL, f"signal:{signal.pk}",
        _("New %(severity)s external signal for %(customer)s: %(kind)s, %(description)s")
        % {"severity": signal.get_severity_display().lower(), "customer": customer.name,
           "kind": signal.get_kind_display().lower(), "description": signal.description},
        {"signal_id": signal.pk, "kind": kind, "severity": severity})])
    return signal


# --- scoring -------------------------------------------------------------------------------

def _recommendation(policy: CreditPolicy, grade: str, provisional: bool) -> tuple[Decimal, int, str]:
    row = policy.grade_policy.get(grade) or {"limit": "0", "terms_days": 0, "conditions": ""}
    limit = Decimal(str(row["limit"]))
    conditions = row.get("conditions", "")
    if provisional:
        # Too little data for the full amount: half the grade's limit until the file is complete.
        limit = (limit / 2).quantize(Decimal("0.01"))
        conditions = (conditions + " " + _("Provisional score: limit halved until the credit file is complete.")).strip()
    return limit, int(row["terms_days"]), conditions[:300]


def _insured_cap(policy: CreditPolicy, limit: Decimal, conditions: str, cover: Decimal,
                 currency: str) -> tuple[Decimal, str]:
    """With the insured hold on, the recommended limit is at most cover in force + uninsured appetite
    (the hold would refuse invoicing beyond it anyway); the conditions say so."""
    if not policy.insured_hold:
        return limit, conditions
    allowed = cover + policy.uninsured_appetite
    if limit <= allowed:
        return limit, conditions
    note = (_("Capped at the insurance cover in force of %(cover)s plus the uninsured appetite of %(appetite)s "
              "(the grade gives %(limit)s).")
            % {"cover": Money(cover, currency), "appetite": Money(policy.uninsured_appetite, currency),
               "limit": Money(limit, currency)})
    return allowed, (conditions + " " + note).strip()[:300]


# CreditScore(organization=..., ...) without the keyword constructor's cost (a re-scoring builds one per customer).
_new_score = object_builder(CreditScore, (
    "organization_id", "customer_id", "as_of", "created_at", "score", "score_low", "score_high", "grade",
    "provisional", "factors", "inputs", "weights", "bands", "provisional_missing_weight", "model_version",
    "recommended_limit", "recommended_terms_days", "recommended_conditions", "cover_in_force"))


@transaction.atomic
def scores_run(*, organization: Organization, as_of: dt.date | None = None, customer_ids: list[int] | None = None,
               actor: Actor = None) -> list[CreditScore]:
    """Score the given customers (default: all) as of a date; a fixed number of queries for any number.

    Stores each score with its inputs, updates the files' latest score and raises grade-drop alerts."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    as_of = as_of or local_today(organization.timezone)
    policy = policy_ensure(organization)
    customers = Customer.objects.filter(organization=organization)
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    # Files for customers that have none yet, in one insert.
    CreditProfile.objects.bulk_create(
        [CreditProfile(organization=organization, customer_id=cid, country=country)
         for cid, country in customers.filter(credit_profile__isnull=True).values_list("pk", "country")],
        ignore_conflicts=True, batch_size=5000)
    profiles = list(selectors.profiles_for_scoring(organization, customer_ids))
    profile_ids = None if customer_ids is None else [p.pk for p in profiles]
    behaviour = selectors.payment_behaviour(organization, as_of, customer_ids=customer_ids)
    exposure = selectors.exposures(organization, as_of, customer_ids=customer_ids)
    statements = selectors.latest_financials(organization, profile_ids)
    signals = selectors.recent_signals(organization, as_of, profile_ids)
    fx = FxTable.load(organization, {policy.size_reference_currency}, as_of)
    # Insurance cover beside the recommendation (one query when an insurance app answers).
    covers = (cover_in_force(organization, [p.customer_id for p in profiles], as_of) if cover_provided()
              else None)
    now = timezone.now()
    scores, drops, reviews_moved = [], [], []
    # What depends only on the grade (and whether the score is provisional), worked out once per run.
    recommendations: dict[tuple[str, bool], tuple[Decimal, int, str]] = {}
    review_dates: dict[str, dt.date] = {}
    organization_field = CreditScore._meta.get_field("organization")
    for profile in profiles:
        inputs = selectors.score_inputs(
            profile=profile, as_of=as_of, behaviour=behaviour.get(profile.customer_id),
            exposure=exposure.get(profile.customer_id), statement=statements.get(profile.pk),
            signals=signals.get(profile.pk, []), min_paid_invoices=policy.min_paid_invoices,
            fx=fx, reference_currency=policy.size_reference_currency)
        card = scorecard(inputs, weights=policy.weights, bands=policy.bands,
                         provisional_missing_weight=policy.provisional_missing_weight)
        key = (card.grade, card.provisional)
        if key not in recommendations:
            recommendations[key] = _recommendation(policy, card.grade, card.provisional)
        limit, terms, conditions = recommendations[key]
        cover = covers.get(profile.customer_id) if covers is not None else None
        limit, conditions = _insured_cap(policy, limit, conditions, cover or ZERO, organization.base_currency)
        score = _new_score(organization.pk, profile.customer_id, as_of, now, card.score, card.low, card.high,
                           card.grade, card.provisional, card.factors_json(), inputs, policy.weights, policy.bands,
                           policy.provisional_missing_weight, MODEL_VERSION, limit, terms, conditions, cover)
        organization_field.set_cached_value(score, organization)
        scores.append(score)
        previous = profile.previous_grade
        if previous is not None and card.grade > previous and not card.provisional:
            drops.append((profile, previous, card.grade))
        # The next review comes by the grade's interval at the latest; a sooner one already planned stays.
        if card.grade not in review_dates:
            review_dates[card.grade] = review_date_for(policy, card.grade, as_of)
        review_by = review_dates[card.grade]
        if profile.next_review_on is None or profile.next_review_on > review_by:
            profile.next_review_on = review_by
            reviews_moved.append(profile)
    # COPY on PostgreSQL (objects_insert): bulk_create's INSERT ... VALUES cost more in Python than the
    # rows cost the database. Each score gets its id, so every file is then pointed at its new score
    # and its next review in one UPDATE (objects_update), whatever the number of customers.
    objects_insert(scores, batch_size=SCORE_BATCH)
    for profile, score in zip(profiles, scores, strict=True):
        profile.latest_score_id = score.pk
    files = CreditProfile.objects.filter(organization=organization)
    objects_update(files, profiles, ["latest_score"], batch_size=SCORE_BATCH)
    # Only the reviews this scoring brings forward: a date someone changed meanwhile stays theirs.
    objects_update(files, reviews_moved, ["next_review_on"], batch_size=SCORE_BATCH)
    if drops:
        alerts_create(organization=organization, alerts=[(
            Customer(pk=profile.customer_id, organization=organization, name=profile.customer_name),
            AlertKind.GRADE_DROPPED, f"grade:{profile.customer_id}:{as_of}:{old}>{new}",
            _("%(customer)s dropped from grade %(old)s to %(new)s.")
            % {"customer": profile.customer_name, "old": old, "new": new},
            {"from": old, "to": new}) for profile, old, new in drops])
    audit_record(organization=organization, actor=actor, action="credit.scored", obj=policy,
                 after={"as_of": as_of, "customers": len(scores), "grade_drops": len(drops)})
    return scores


WEAK_GRADES = ("D", "E")


def review_months_for(policy: CreditPolicy, grade: str | None) -> int:
    """Months between reviews: the policy's interval (quarterly by default), the weakest grades more often."""
    if grade in WEAK_GRADES:
        return min(policy.weak_grades_review_months, policy.review_interval_months)
    return policy.review_interval_months


def review_date_for(policy: CreditPolicy, grade: str | None, start: dt.date) -> dt.date:
    return add_months(start, review_months_for(policy, grade))


def customer_score(*, organization: Organization, customer: Customer, actor: Actor = None,
                   as_of: dt.date | None = None) -> CreditScore:
    """Score one customer now."""
    same_organization_check(organization, customer)
    return scores_run(organization=organization, as_of=as_of, customer_ids=[customer.pk], actor=actor)[0]


def score_reproduce(score: CreditScore):
    """Recompute a stored score from its stored inputs, weights and bands (must match exactly)."""
    return scorecard(score.inputs, weights=score.weights, bands=score.bands,
                     provisional_missing_weight=score.provisional_missing_weight)


# --- limits and approvals ------------------------------------------------------------------

def _levels_for(policy: CreditPolicy, amount: Decimal) -> list[str]:
    if amount <= policy.manager_approval_limit:
        return [Role.CREDIT_MANAGER.value]
    return [Role.CREDIT_MANAGER.value, Role.ADMIN.value]


@transaction.atomic
def limit_request_create(*, organization: Organization, actor: Actor, customer: Customer, requested_limit: Any,
                         requested_terms_days: int, reason: str) -> LimitRequest:
    """Propose a new limit and terms (collectors and up); the amount decides the approval levels."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, customer)
    amount = parse_amount(requested_limit, field="requested_limit", allow_zero=True,
                          currency=organization.base_currency)
    if not reason.strip():
        raise DomainError(_("Say why the limit should change."), field="reason")
    if not 0 <= int(requested_terms_days) <= 365:
        raise DomainError(_("Payment terms must be 0 to 365 days."), field="requested_terms_days")
    if LimitRequest.objects.filter(customer=customer, status=LimitRequestStatus.PENDING).exists():
        raise DomainError(_("%(customer)s already has a limit request waiting for approval.")
                          % {"customer": customer.name}, code=ErrorCode.DUPLICATE)
    policy = policy_ensure(organization)
    profile = profile_ensure(organization=organization, customer=customer)
    score = profile.latest_score or customer_score(organization=organization, customer=customer)
    request = LimitRequest.objects.create(
        organization=organization, customer=customer, requested_limit=amount,
        requested_terms_days=int(requested_terms_days), previous_limit=profile.credit_limit, reason=reason.strip(),
        levels_required=_levels_for(policy, amount), requested_by=actor, score=score, created_at=timezone.now())
    audit_record(organization=organization, actor=actor, action="credit.limit_requested", obj=request,
                 after={"customer_id": customer.pk, "requested_limit": amount,
                        "requested_terms_days": request.requested_terms_days, "levels": request.levels_required,
                        "score": score.snapshot()})
    return request


def _locked_pending(organization: Organization, request: LimitRequest) -> LimitRequest:
    same_organization_check(organization, request)
    request = LimitRequest.objects.select_for_update(no_key=True).get(pk=request.pk, organization=organization)
    if request.status != LimitRequestStatus.PENDING:
        raise DomainError(_("This limit request is already %(status)s.") % {"status": request.get_status_display().lower()},
                          code=ErrorCode.INVALID)
    return request


def _next_level(request: LimitRequest) -> str:
    level = request.next_level
    if level is None:  # the last level's approval decides the request in the same transaction
        raise AssertionError(f"pending limit request #{request.pk} has no level left to decide")
    return level


def _decider_check(organization: Organization, request: LimitRequest, actor: Actor, level: str) -> None:
    if actor is None:
        raise PermissionDenied(_("A limit decision needs a person, not the system."))
    role_require(organization=organization, actor=actor, role=Role(level))
    if request.requested_by_id == actor.pk:
        raise PermissionDenied(_("You proposed this limit; someone else must decide on it."))
    if request.steps.filter(actor_id=actor.pk).exists():
        raise PermissionDenied(_("You already approved an earlier level of this request; another person must "
                                 "approve this level."))


def _step(organization: Organization, request: LimitRequest, actor: Actor, level: str, decision: str,
          comment: str) -> LimitApprovalStep:
    profile = profile_ensure(organization=organization, customer=request.customer)
    score = profile.latest_score
    return LimitApprovalStep.objects.create(
        organization=organization, request=request, level=level, decision=decision, actor=actor,
        comment=comment[:500], score_snapshot=score.snapshot() if score else None, created_at=timezone.now())


@transaction.atomic
def limit_request_approve(*, organization: Organization, actor: Actor, request: LimitRequest,
                          comment: str = "") -> LimitRequest:
    """Approve the request's next level; the last level applies the new limit and terms."""
    request = _locked_pending(organization, request)
    level = _next_level(request)
    _decider_check(organization, request, actor, level)
    step = _step(organization, request, actor, level, StepDecision.APPROVED, comment)
    audit_record(organization=organization, actor=actor, action="credit.limit_step_approved", obj=request,
                 after={"level": level, "comment": comment, "score": step.score_snapshot})
    if level == request.levels_required[-1]:
        request.status, request.decided_at = LimitRequestStatus.APPROVED, timezone.now()
        request.save(update_fields=["status", "decided_at"])
        credit_limit_apply(organization=organization, actor=actor, customer=request.customer,
                           limit=request.requested_limit, terms_days=request.requested_terms_days,
                           source=f"limit request #{request.pk}")
    return request


@transaction.atomic
def limit_request_reject(*, organization: Organization, actor: Actor, request: LimitRequest,
                         reason: str) -> LimitRequest:
    """Reject the request at its current level, with a reason."""
    request = _locked_pending(organization, request)
    level = _next_level(request)
    _decider_check(organization, request, actor, level)
    if not reason.strip():
        raise DomainError(_("Give a reason for the rejection."), field="reason")
    step = _step(organization, request, actor, level, StepDecision.REJECTED, reason.strip())
    request.status, request.decided_at = LimitRequestStatus.REJECTED, timezone.now()
    request.rejection_reason = reason.strip()[:500]
    request.save(update_fields=["status", "decided_at", "rejection_reason"])
    audit_record(organization=organization, actor=actor, action="credit.limit_rejected", obj=request,
                 after={"level": level, "reason": request.rejection_reason, "score": step.score_snapshot})
    return request


def credit_limit_apply(*, organization: Organization, actor: Actor, customer: Customer, limit: Decimal,
                       terms_days: int, source: str) -> CreditProfile:
    """Set the limit and terms (called by an approved request only) and tell webhooks."""
    from receivables.services import customer_update

    profile = CreditProfile.objects.select_for_update(no_key=True).get(pk=profile_ensure(organization=organization,
                                                                                customer=customer).pk)
    before = {"credit_limit": profile.credit_limit, "payment_terms_days": profile.payment_terms_days,
              "next_review_on": profile.next_review_on}
    profile.credit_limit, profile.payment_terms_days = limit, terms_days
    # An approved limit is a review done: the next one is due by the customer's grade.
    grade = profile.latest_score.grade if profile.latest_score_id else None
    profile.next_review_on = review_date_for(policy_ensure(organization), grade, local_today(organization.timezone))
    profile.save(update_fields=["credit_limit", "payment_terms_days", "next_review_on", "updated_at"])
    if customer.payment_terms_days != terms_days:
        customer_update(organization=organization, customer=customer, actor=actor, payment_terms_days=terms_days)
    after = {"credit_limit": limit, "payment_terms_days": terms_days, "source": source,
             "next_review_on": profile.next_review_on}
    audit_record(organization=organization, actor=actor, action="credit.limit_changed", obj=profile,
                 before=before, after=after)
    _event(organization, "credit.limit_changed", {
        "customer_id": customer.pk, "customer_external_id": customer.external_id,
        "previous_limit": before["credit_limit"], "credit_limit": limit, "currency": organization.base_currency,
        "payment_terms_days": terms_days})
    return profile


@transaction.atomic
def blacklist_set(*, organization: Organization, actor: Actor, customer: Customer, blacklisted: bool,
                  reason: str = "", on: dt.date | None = None) -> CreditProfile:
    """Put a customer on the blacklist (with a reason) or take it off (credit managers and admins)."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    profile = profile_ensure(organization=organization, customer=customer)
    if blacklisted and not reason.strip():
        raise DomainError(_("Give the reason for blacklisting %(customer)s.") % {"customer": customer.name},
                          field="reason")
    before = {"blacklisted": profile.blacklisted, "reason": profile.blacklist_reason}
    profile.blacklisted = blacklisted
    profile.blacklist_reason = reason.strip()[:300] if blacklisted else ""
    profile.blacklisted_on = (on or local_today(organization.timezone)) if blacklisted else None
    profile.save(update_fields=["blacklisted", "blacklist_reason", "blacklisted_on", "updated_at"])
    audit_record(organization=organization, actor=actor, action="credit.blacklist_set", obj=profile, before=before,
                 after={"blacklisted": blacklisted, "reason": profile.blacklist_reason, "on": profile.blacklisted_on})
    return profile


# --- credit hold (called by receivables.services.invoice_create) ----------------------------

def credit_hold_check(*, organization: Organization, customer: Customer, amount: Decimal,
                      currency: str | None = None) -> str | None:
    """Refuse (DomainError) or warn (returns the message) when invoicing a customer on credit hold.

    On hold: blacklisted, over its limit counting this invoice, or overdue past the threshold.
    The rules are credit_hold_check_many's, for a batch of one."""
    held = credit_hold_check_many(organization=organization,
                                  invoices=[(customer, amount, currency or customer.currency)])
    if customer.pk not in held:
        return None
    message, refused = held[customer.pk]
    if refused:
        raise DomainError(message, code=CREDIT_HOLD, field="customer")
    return message


def credit_hold_check_many(*, organization: Organization,
                           invoices: list[tuple[Customer, Decimal, str]]) -> dict[int, tuple[str, bool]]:
    """credit_hold_check for many new invoices (customer, amount, currency) at once, each customer's
    new invoices counted together: {customer id: (message, refused)} for the customers on hold.

    A fixed number of queries however many invoices; warnings raise the same alerts."""
    policy = selectors.policy_of(organization)
    customers = {customer.pk: customer for customer, _amount, _currency in invoices}
    if policy.hold_mode == HoldMode.OFF or not customers:
        return {}
    profiles = {p.customer_id: p for p in filter_in(CreditProfile.objects.filter(organization=organization),
                                                    "customer_id", list(customers))}
    # The insured hold checks every customer invoiced; the other rules only those with a credit file.
    checked = list(customers) if policy.insured_hold else list(profiles)
    if not checked:
        return {}
    today = local_today(organization.timezone)
    fx = FxTable.load(organization, {validate_currency(c) for _customer, _amount, c in invoices}, today)
    extra: dict[int, Decimal] = {}
    no_rate: dict[int, list[str]] = {}
    for customer, amount, currency in invoices:
        if customer.pk in profiles or policy.insured_hold:
            currency = validate_currency(currency)
            try:
                base_amount = fx.convert(amount, currency, today)
            except DomainError:
                base_amount = amount  # no rate: face value, and the hold names the missing rate
                no_rate.setdefault(customer.pk, []).append(currency)
            extra[customer.pk] = extra.get(customer.pk, ZERO) + base_amount
    exposures = selectors.hold_exposures(organization, today, policy=policy, customer_ids=checked)
    covers = cover_in_force(organization, checked, today) if policy.insured_hold else {}
    refuse = policy.hold_mode == HoldMode.REFUSE
    held: dict[int, tuple[str, bool]] = {}
    alerts: list[AlertSpec] = []
    for customer_id in checked:
        customer, profile = customers[customer_id], profiles.get(customer_id)
        exposure = exposures.get(customer_id, selectors.Exposure())
        reasons = [] if profile is None else selectors.hold_reasons_of(
            customer, profile, exposure, extra_amount=extra[customer_id], policy=policy,
            currency=organization.base_currency, as_of=today, missing_rates=no_rate.get(customer_id, ()))
        if policy.insured_hold and (insured := selectors.insured_hold_reason(
                exposure, extra_amount=extra[customer_id], cover=covers[customer_id], policy=policy,
                currency=organization.base_currency)):
            reasons.append(insured)
        if not reasons:
            continue
        message = _("%(customer)s is on credit hold: %(reasons)s") % {"customer": customer.name,
                                                                      "reasons": " ".join(reasons)}
        if refuse:
            message += " " + _("A credit manager can raise the limit or lift the hold.")
        else:
            alerts.append((customer, AlertKind.HOLD_WARNING, f"hold:{customer.pk}:{today}", message,
                           {"amount": str(Money(extra[customer_id], organization.base_currency).quantized().amount)}))
        held[customer_id] = (message, refuse)
    if alerts:
        alerts_create(organization=organization, alerts=alerts)
    return held


# --- alerts --------------------------------------------------------------------------------

AlertSpec = tuple[Customer, str, str, str, dict]  # customer, kind, dedupe key, message, data


def alerts_create(*, organization: Organization, alerts: list[AlertSpec]) -> list[CreditAlert]:
    """Record the alerts not raised before (by dedupe key) and emit credit.alert for each new one."""
    keys = [spec[2] for spec in alerts]
    existing = set(CreditAlert.objects.filter(organization=organization, dedupe_key__in=keys)
                   .values_list("dedupe_key", flat=True))
    now = timezone.now()
    new, seen = [], set(existing)
    for customer, kind, key, message, data in alerts:
        if key in seen:
            continue
        seen.add(key)
        new.append(CreditAlert(organization=organization, customer=customer, kind=kind, message=message[:500],
                               data=data, dedupe_key=key, created_at=now))
    # ignore_conflicts: a concurrent run that raised the same alert first wins, silently.
    CreditAlert.objects.bulk_create(new, ignore_conflicts=True, batch_size=SCORE_BATCH)
    _events(organization, "credit.alert", [
        {"kind": alert.kind, "customer_id": alert.customer_id, "message": alert.message, "data": alert.data}
        for alert in new])
    return new


@transaction.atomic
def alerts_scan(*, organization: Organization, as_of: dt.date | None = None) -> list[CreditAlert]:
    """Raise today's portfolio alerts: over limit, first overdue of a good customer, concentration."""
    as_of = as_of or local_today(organization.timezone)
    policy = policy_ensure(organization)
    exposure = selectors.exposures(organization, as_of)
    total = sum((e.outstanding for e in exposure.values()), Decimal(0))
    profiles = {p.customer_id: p for p in CreditProfile.objects.filter(organization=organization, customer_id__in=list(
        exposure)).select_related("customer", "latest_score")}
    customers = {c.pk: c for c in Customer.objects.filter(organization=organization, pk__in=list(exposure))}
    base = organization.base_currency
    specs: list[AlertSpec] = []
    for cid, e in exposure.items():
        customer, profile = customers[cid], profiles.get(cid)
        if profile and profile.credit_limit is not None and e.outstanding > profile.credit_limit:
            specs.append((customer, AlertKind.OVER_LIMIT, f"over:{cid}:{profile.credit_limit}:{as_of:%Y-%m}",
                          _("%(customer)s exposure %(exposure)s is over its credit limit of %(limit)s.")
                          % {"customer": customer.name, "exposure": Money(e.outstanding, base),
                             "limit": Money(profile.credit_limit, base)},
                          {"exposure": str(e.outstanding), "limit": str(profile.credit_limit)}))
        if (e.overdue > 0 and profile and profile.latest_score and profile.latest_score.grade in GOOD_GRADES):
            specs.append((customer, AlertKind.FIRST_OVERDUE, f"first_overdue:{cid}:{profile.latest_score_id}",
                          _("%(customer)s (grade %(grade)s) has an overdue invoice: %(amount)s, %(days)s days.")
                          % {"customer": customer.name, "grade": profile.latest_score.grade,
                             "amount": Money(e.overdue, base), "days": e.max_days_overdue},
                          {"overdue": str(e.overdue), "days": e.max_days_overdue}))
        if total > 0 and e.outstanding * 100 > total * policy.concentration_percent:
            share = (e.outstanding * 100 / total).quantize(Decimal("0.1"))
            specs.append((customer, AlertKind.CONCENTRATION, f"concentration:{cid}:{as_of:%Y-%m}",
                          _("%(customer)s is %(share)s%% of all receivables (alert above %(limit)s%%).")
                          % {"customer": customer.name, "share": share, "limit": policy.concentration_percent},
                          {"share": str(share)}))
    return alerts_create(organization=organization, alerts=specs)


def alerts_digest_send(*, organization: Organization) -> int:
    """Mail the credit managers every alert not yet in a digest; returns how many were sent (0: no mail)."""
    from .mail import alert_digest_send

    with transaction.atomic():
        alerts = list(CreditAlert.objects.select_for_update(skip_locked=True, no_key=True)
                      .filter(organization=organization, digested_at__isnull=True)
                      .select_related("customer").order_by("created_at", "pk"))
        if not alerts:
            return 0
        recipients = selectors.credit_manager_emails(organization)
        if recipients:
            alert_digest_send(organization=organization, alerts=alerts, recipients=recipients)
        CreditAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(digested_at=timezone.now())
    return len(alerts)


# --- reviews -------------------------------------------------------------------------------

@transaction.atomic
def reviews_run(*, organization: Organization, as_of: dt.date | None = None) -> list[CreditReview]:
    """Re-score every file whose review is due, propose a limit and terms, open a review task.

    Idempotent: a review is unique per customer and due date, and the next date moves on."""
    as_of = as_of or local_today(organization.timezone)
    policy = policy_ensure(organization)
    due = list(CreditProfile.objects.select_for_update(skip_locked=True, no_key=True).filter(
        organization=organization, next_review_on__lte=as_of).order_by("pk"))
    if not due:
        return []
    scores = {s.customer_id: s for s in scores_run(organization=organization, as_of=as_of,
                                                   customer_ids=[p.customer_id for p in due])}
    now = timezone.now()
    reviews = [CreditReview(organization=organization, customer_id=p.customer_id, due_on=p.next_review_on,
                            score=scores[p.customer_id], proposed_limit=scores[p.customer_id].recommended_limit,
                            proposed_terms_days=scores[p.customer_id].recommended_terms_days, created_at=now)
               for p in due]
    CreditReview.objects.bulk_create(reviews, ignore_conflicts=True, batch_size=2000)
    for profile in due:
        months = review_months_for(policy, scores[profile.customer_id].grade)
        next_on = profile.next_review_on
        while next_on <= as_of:
            next_on = add_months(next_on, months)
        profile.next_review_on = next_on
    CreditProfile.objects.bulk_update(due, ["next_review_on"], batch_size=2000)
    audit_record(organization=organization, actor=None, action="credit.reviews_opened", obj=policy,
                 after={"as_of": as_of, "reviews": len(reviews)})
    return reviews


@transaction.atomic
def review_schedule(*, organization: Organization, actor: Actor, customer: Customer, on: dt.date) -> CreditProfile:
    """Set a customer's next review date (credit managers)."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    profile = profile_ensure(organization=organization, customer=customer)
    before = {"next_review_on": profile.next_review_on}
    profile.next_review_on = on
    profile.save(update_fields=["next_review_on", "updated_at"])
    audit_record(organization=organization, actor=actor, action="credit.review_scheduled", obj=profile,
                 before=before, after={"next_review_on": on})
    return profile
