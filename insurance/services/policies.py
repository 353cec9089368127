"""Policies: created and changed by admins, every change audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from receivables.models import Customer
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import parse_amount, validate_currency
from tenancy.services import Actor, audit_record, model_check, role_require, same_organization_check

from ..models import Policy
from ._common import snapshot

POLICY_FIELDS = (
    "insurer_name", "policy_number", "currency", "starts_on", "ends_on", "insured_percentage",
    "max_credit_period_days", "overdue_notification_days", "max_extension_days", "claim_filing_days",
    "waiting_period_days", "discretionary_limit", "discretionary_conditions", "claim_threshold", "deductible",
    "premium_rate", "premium_declaration_days", "covered_countries", "warning_days", "connector", "connector_url",
)
AMOUNT_FIELDS = ("discretionary_limit", "claim_threshold", "deductible")


def _rules_check(policy: Policy) -> None:
    """The rules the CHECK constraints hold, as clear messages before the database refuses."""
    if policy.ends_on <= policy.starts_on:
        raise DomainError(_("The policy must end after it starts."), field="ends_on")
    if not 0 < policy.insured_percentage <= 100:
        raise DomainError(_("The insured percentage must be above 0 and at most 100."), field="insured_percentage")
    if policy.claim_filing_days < policy.overdue_notification_days:
        raise DomainError(_("The claim-filing deadline cannot come before the overdue notification deadline."),
                          field="claim_filing_days")
    if not 0 <= policy.premium_rate <= 100:
        raise DomainError(_("The premium rate is a percentage between 0 and 100."), field="premium_rate")
    if policy.connector == "http" and not policy.connector_url:
        raise DomainError(_("The insurer API needs its address."), field="connector_url")
    countries = policy.covered_countries
    if not isinstance(countries, list) or any(not isinstance(c, str) or len(c) != 2 for c in countries):
        raise DomainError(_("Covered countries are a list of 2-letter ISO codes."), field="covered_countries")
    policy.covered_countries = sorted({c.upper() for c in countries})


def _excluded_set(organization: Organization, policy: Policy, customers: Iterable[Customer]) -> list[int]:
    customers = list(customers)
    same_organization_check(organization, *customers)
    policy.excluded_customers.set(customers)
    return sorted(c.pk for c in customers)


@transaction.atomic
def policy_create(*, organization: Organization, actor: Actor, excluded_customers: Iterable[Customer] = (),
                  **fields: Any) -> Policy:
    """Record a credit-insurance policy (admins)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise DomainError(_("Unknown policy fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    fields["currency"] = validate_currency(fields.get("currency") or organization.base_currency)
    for name in AMOUNT_FIELDS:
        if name in fields:
            fields[name] = parse_amount(fields[name], field=name, allow_zero=True)
    policy = Policy(organization=organization, **fields)
    model_check(policy, exclude=("organization",))
    _rules_check(policy)
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise DomainError(_("Policy number %(number)s exists already.") % {"number": policy.policy_number},
                          code=ErrorCode.DUPLICATE, field="policy_number") from None
    excluded = _excluded_set(organization, policy, excluded_customers)
    audit_record(organization=organization, actor=actor, action="insurance.policy_created", obj=policy,
                 after={**snapshot(policy, POLICY_FIELDS), "excluded_customers": excluded})
    return policy


@transaction.atomic
def policy_update(*, organization: Organization, actor: Actor, policy: Policy,
                  excluded_customers: Iterable[Customer] | None = None, **changes: Any) -> Policy:
    """Change a policy's terms (admins); before and after go to the audit log."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    same_organization_check(organization, policy)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise DomainError(_("Unknown policy fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    policy = Policy.objects.select_for_update(no_key=True).get(pk=policy.pk, organization=organization)
    before = snapshot(policy, tuple(changes))
    for name, value in changes.items():
        if name in AMOUNT_FIELDS:
            value = parse_amount(value, field=name, allow_zero=True)
        if name == "currency":
            value = validate_currency(value)
        setattr(policy, name, value)
    model_check(policy, exclude=("organization",))
    _rules_check(policy)
    policy.save()
    after = snapshot(policy, tuple(changes))
    if excluded_customers is not None:
        before["excluded_customers"] = sorted(policy.excluded_customers.values_list("pk", flat=True))
        after["excluded_customers"] = _excluded_set(organization, policy, excluded_customers)
    audit_record(organization=organization, actor=actor, action="insurance.policy_updated", obj=policy,
                 before=before, after=after)
    return policy
