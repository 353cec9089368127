"""Customers: create and correct."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tenancy.errors import DomainError
from tenancy.models import Organization, Role
from tenancy.money import validate_currency
from tenancy.services import (
    Actor,
    audit_record,
    model_check,
    role_require,
    same_organization_check,
)

from .. import events
from ..models import (
    Customer,
)
from .common import CUSTOMER_FIELDS, _save_unique, _snapshot


def _customer_build(organization: Organization, fields: dict[str, Any]) -> Customer:
    """customer_create's checks, without touching the database."""
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise DomainError(_("Unknown customer fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    fields = {"currency": organization.base_currency, "payment_terms_days": organization.default_payment_terms_days,
              "language": organization.default_language, **fields}
    fields["currency"] = validate_currency(fields["currency"])
    customer = Customer(organization=organization, **fields)
    model_check(customer, exclude=["organization"])
    return customer


def _customer_change(customer: Customer, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply customer_update's checked changes to `customer` in memory: (before, changed), empty when
    nothing changes."""
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise DomainError(_("Unknown customer fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    if "currency" in changes:
        changes = {**changes, "currency": validate_currency(changes["currency"])}
    changed = {k: v for k, v in changes.items() if getattr(customer, k) != v}
    if not changed:
        return {}, {}
    before = _snapshot(customer, changed)
    for field, value in changed.items():
        setattr(customer, field, value)
    model_check(customer, exclude=["organization"])
    return before, changed


@transaction.atomic
def customer_create(*, organization: Organization, actor: Actor, **fields: Any) -> Customer:
    """Create a customer."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    customer = _customer_build(organization, fields)
    _save_unique(customer, what=_("customer"))
    audit_record(organization=organization, actor=actor, action="customer.created", obj=customer,
                 after=_snapshot(customer, CUSTOMER_FIELDS))
    return customer


@transaction.atomic
def customer_update(*, organization: Organization, customer: Customer, actor: Actor,
                    precondition: Callable[[Customer], None] | None = None, **changes: Any) -> Customer:
    """Change a customer's details, on the row as it is under lock (a concurrent change of another
    field is kept, not overwritten). Returns the updated customer.

    `precondition(locked_customer)` runs before anything changes (the API's If-Match, the edit
    page's version check): it raises to refuse."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, customer)
    given = customer
    customer = Customer.objects.select_for_update(no_key=True).get(organization=organization, pk=customer.pk)
    if precondition is not None:
        precondition(customer)
    before, changed = _customer_change(customer, changes)
    if not changed:
        return customer
    _save_unique(customer, what=_("customer"))
    for name in (*changed, "updated_at"):  # the caller's object shows what was saved, as it always did
        setattr(given, name, getattr(customer, name))
    audit_record(organization=organization, actor=actor, action="customer.updated", obj=customer,
                 before=before, after=changed)
    events.customer_updated(organization, customer)
    return customer
