"""Buyer cover: requests of each EDIFACT 4505 type, sent through the policy's connector, and the
insurer's decisions (entered by a person, polled from the insurer's API or received by callback).

Lock order: the cover request row (FOR NO KEY UPDATE), then the audit chain. Two decisions on one
request: the second waits for the first's lock, then finds the request decided and is refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from receivables.models import Customer
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, parse_amount
from tenancy.services import Actor, audit_record, role_require, same_organization_check

from .. import selectors
from ..connectors import InsurerDecision, InsurerError, connector_for
from ..models import CoverRequest, Decision, Policy, RequestStatus, RequestType
from ._common import event


class CoverAlreadyDecided(DomainError):
    """A second decision on a decided request (the API's 409)."""

    code = ErrorCode.DUPLICATE


def _request_payload(request: CoverRequest) -> dict:
    customer = request.customer
    return {"policyNumber": request.policy.policy_number, "requestType": request.request_type,
            "amount": str(request.amount), "currency": request.currency, "requestId": request.pk,
            "buyer": {"name": customer.legal_name or customer.name, "country": customer.country,
                      "registrationNumber": customer.registration_number}}


@transaction.atomic
def cover_request_create(*, organization: Organization, actor: Actor, policy: Policy, customer: Customer,
                         request_type: str, amount: Decimal | str | int, requested_on: dt.date | None = None,
                         discretionary: bool = False) -> CoverRequest:
    """Ask the insurer for buyer cover (credit managers). A discretionary cover, within the policy's
    discretionary limit, is the policyholder's own decision and is in force at once."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, policy, customer)
    if request_type not in RequestType.values:
        raise DomainError(_("Unknown request type %(type)s.") % {"type": request_type}, field="request_type")
    amount = ZERO if request_type == RequestType.CANCELLATION else parse_amount(amount, field="amount")
    requested_on = requested_on or local_today(organization.timezone)
    if not policy.starts_on <= requested_on <= policy.ends_on:
        raise DomainError(_("The policy is not in force on %(date)s.") % {"date": requested_on}, field="requested_on")
    if customer.pk in {c.pk for c in policy.excluded_customers.all()}:
        raise DomainError(_("%(customer)s is excluded from this policy.") % {"customer": customer.name},
                          field="customer")
    if discretionary and (request_type == RequestType.CANCELLATION or amount > policy.discretionary_limit):
        raise DomainError(_("A discretionary cover is at most %(limit)s.")
                          % {"limit": Money(policy.discretionary_limit, policy.currency)}, field="amount")
    request = CoverRequest(organization=organization, policy=policy, customer=customer, request_type=request_type,
                           amount=amount, currency=policy.currency, requested_on=requested_on,
                           discretionary=discretionary, requested_by=actor)
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        raise DomainError(_("%(customer)s has an open cover request under this policy; wait for its decision.")
                          % {"customer": customer.name}, code=ErrorCode.DUPLICATE, field="customer") from None
    audit_record(organization=organization, actor=actor, action="insurance.cover_requested", obj=request,
                 after={"policy": policy.pk, "customer": customer.pk, "request_type": request_type,
                        "amount": amount, "currency": policy.currency, "discretionary": discretionary})
    if discretionary:
        return _decide(organization=organization, actor=actor, request=request,
                       decision=InsurerDecision(decision=Decision.APPROVED, amount=amount, decided_on=requested_on,
                                                reason_text=policy.discretionary_conditions))
    return request


def _decide(*, organization: Organization, actor: Actor, request: CoverRequest, decision: InsurerDecision
            ) -> CoverRequest:
    """Record a decision on a locked request (callers hold the row lock)."""
    if request.status == RequestStatus.DECIDED:
        raise CoverAlreadyDecided(_("This cover request was decided already (%(decision)s).")
                                  % {"decision": request.get_decision_display()})
    if decision.decision not in Decision.values:
        raise DomainError(_("Unknown decision %(decision)s.") % {"decision": decision.decision}, field="decision")
    granted = {Decision.APPROVED: request.amount, Decision.REFUSED: ZERO}.get(decision.decision)
    if granted is None:  # partial
        granted = parse_amount(decision.amount, field="amount")
        if not ZERO < granted < request.amount:
            raise DomainError(_("A partial decision grants more than 0 and less than the %(amount)s requested.")
                              % {"amount": Money(request.amount, request.currency)}, field="amount")
    elif decision.decision == Decision.APPROVED and decision.amount not in (None, ZERO) and \
            Decimal(decision.amount) != request.amount:
        raise DomainError(_("An approval grants the amount requested (%(amount)s); use partial for less.")
                          % {"amount": Money(request.amount, request.currency)}, field="amount")
    if decision.decision == Decision.REFUSED and not (decision.reason_code or decision.reason_text):
        raise DomainError(_("A refusal needs a reason code or text."), field="reason_code")
    decided_on = decision.decided_on or local_today(organization.timezone)
    if decided_on < request.requested_on:
        raise DomainError(_("The decision cannot be dated before the request."), field="decided_on")
    if decision.valid_until is not None and decision.valid_until < decided_on:
        raise DomainError(_("Valid until must be on or after the decision date."), field="valid_until")
    request.status = RequestStatus.DECIDED
    request.decision = decision.decision
    request.decided_amount = granted
    request.reason_code = decision.reason_code[:10]
    request.reason_text = decision.reason_text[:500]
    request.decided_on = decided_on
    request.valid_until = decision.valid_until
    request.decided_by = actor
    if decision.reference:
        request.external_reference = decision.reference[:100]
    request.save()
    audit_record(organization=organization, actor=actor, action="insurance.cover_decided", obj=request,
                 before={"status": "open"},
                 after={"decision": request.decision, "amount": granted, "reason_code": request.reason_code,
                        "reason_text": request.reason_text, "decided_on": decided_on,
                        "valid_until": request.valid_until})
    event(organization, "insurance.cover_decided", {
        "cover_request": request.pk, "policy": request.policy_id, "customer": request.customer_id,
        "request_type": request.request_type, "decision": request.decision, "amount": str(granted),
        "currency": request.currency, "valid_until": request.valid_until})
    return request


def _lock(organization: Organization, request: CoverRequest) -> CoverRequest:
    same_organization_check(organization, request)
    return (CoverRequest.objects.select_for_update(of=("self",), no_key=True).select_related("policy", "customer")
            .get(pk=request.pk, organization=organization))


@transaction.atomic
def cover_request_decide(*, organization: Organization, actor: Actor, request: CoverRequest, decision: str,
                         amount: Decimal | str | None = None, reason_code: str = "", reason_text: str = "",
                         valid_until: dt.date | None = None, decided_on: dt.date | None = None) -> CoverRequest:
    """Record the insurer's answer to a cover request (credit managers): approved (the amount asked),
    partial (a lower amount) or refused (with a reason). Only one decision per request."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    request = _lock(organization, request)
    return _decide(organization=organization, actor=actor, request=request, decision=InsurerDecision(
        decision=decision, amount=amount if amount is not None else ZERO, reason_code=reason_code or "",
        reason_text=reason_text or "", valid_until=valid_until, decided_on=decided_on))


@transaction.atomic
def cover_request_submit(*, organization: Organization, actor: Actor, request: CoverRequest,
                         callback_url: str = "") -> CoverRequest:
    """Send a pending request through the policy's connector; with an insurer API it waits for the job
    (polled, or pushed to `callback_url`)."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    request = _lock(organization, request)
    if request.status != RequestStatus.PENDING:
        raise DomainError(_("Only a pending request can be sent."), code=ErrorCode.DUPLICATE)
    try:
        payload = _request_payload(request)
        if callback_url:
            payload["callbackUrl"] = callback_url
        job_id = connector_for(request.policy).cover_request_submit(payload)
    except InsurerError as exc:
        raise DomainError(_("The insurer did not take the request: %(error)s") % {"error": exc}) from None
    if job_id is None:
        return request
    request.status = RequestStatus.SUBMITTED
    request.external_reference = job_id[:100]
    request.save(update_fields=["status", "external_reference", "updated_at"])
    audit_record(organization=organization, actor=actor, action="insurance.cover_submitted", obj=request,
                 after={"job_id": job_id})
    return request


def cover_requests_poll(*, organization: Organization) -> int:
    """Ask the insurer about every submitted request; record the decisions that are ready. Each
    request in its own transaction, so one insurer failure leaves the others' decisions stored."""
    decided = 0
    for pk in CoverRequest.objects.filter(organization=organization, status=RequestStatus.SUBMITTED).values_list(
            "pk", flat=True).order_by("pk"):
        with transaction.atomic():
            request = (CoverRequest.objects.select_for_update(of=("self",), no_key=True, skip_locked=True)
                       .select_related("policy", "customer").filter(pk=pk, status=RequestStatus.SUBMITTED).first())
            if request is None:
                continue
            try:
                answer = connector_for(request.policy).cover_decision_poll(request.external_reference)
            except InsurerError:
                continue  # retried at the next poll
            if answer is not None:
                _decide(organization=organization, actor=None, request=request, decision=answer)
                decided += 1
    return decided


@transaction.atomic
def cover_decision_receive(*, organization: Organization, job_id: str, decision: InsurerDecision) -> CoverRequest:
    """A decision pushed by the insurer's callback for one of our submitted jobs."""
    request = (CoverRequest.objects.select_for_update(of=("self",), no_key=True).select_related("policy", "customer")
               .filter(organization=organization, external_reference=job_id).first())
    if request is None:
        raise DomainError(_("Unknown insurer job."), code=ErrorCode.NOT_FOUND)
    return _decide(organization=organization, actor=None, request=request, decision=decision)


def cover_amount(organization: Organization, *, policy: Policy, customer: Customer, as_of: dt.date) -> Decimal:
    cover = selectors.covers_as_of(organization, as_of, customer_ids=[customer.pk]).get((policy.pk, customer.pk))
    return cover.amount if cover else ZERO
