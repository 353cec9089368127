"""What credit tells the customer page (receivables/panels.py): the credit panel (limit, score and
grade, exposure against the limit, review date, a limit request waiting) and the hold state of
customers now, so a blacklisted or held customer never reads "Active" beside "New invoice".

The hold state is the credit hold's own rules (selectors.hold_reasons_of, insured_hold_reason) for
an invoice of zero: what a new invoice would meet today, before its amount is known."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from receivables.models import Customer
from receivables.panels import (
    CustomerHold,
    CustomerLink,
    CustomerPanel,
    customer_hold_source_register,
    customer_link_register,
    customer_panel_register,
)
from tenancy.db import filter_in
from tenancy.models import Organization
from tenancy.money import ZERO

from . import selectors
from .cover import cover_in_force
from .models import CreditProfile, HoldMode, LimitRequest, LimitRequestStatus


def customer_holds(organization: Organization, customer_ids: list[int],
                   today: dt.date) -> dict[int, list[CustomerHold]]:
    """{customer id: [its hold]} for the customers blacklisted or on credit hold today (fixed queries).

    A blacklisted customer is shown as such even when the policy's hold is off (then nothing is refused)."""
    policy = selectors.policy_of(organization)
    profiles = {p.customer_id: p for p in filter_in(
        CreditProfile.objects.filter(organization=organization).select_related("customer"), "customer_id",
        list(customer_ids))}
    checking = policy.hold_mode != HoldMode.OFF
    checked = list(customer_ids) if checking and policy.insured_hold else list(profiles) if checking else []
    exposures = selectors.hold_exposures(organization, today, policy=policy, customer_ids=checked) if checked else {}
    covers = cover_in_force(organization, checked, today) if checked and policy.insured_hold else {}
    holds: dict[int, list[CustomerHold]] = {}
    for customer_id in customer_ids:
        profile = profiles.get(customer_id)
        reasons: list[str] = []
        if customer_id in checked:
            exposure = exposures.get(customer_id, selectors.Exposure())
            if profile is not None:
                reasons += selectors.hold_reasons_of(
                    profile.customer, profile, exposure, extra_amount=ZERO, policy=policy,
                    currency=organization.base_currency, as_of=today)
            if policy.insured_hold and (insured := selectors.insured_hold_reason(
                    exposure, extra_amount=ZERO, cover=covers.get(customer_id, ZERO), policy=policy,
                    currency=organization.base_currency)):
                reasons.append(insured)
        blacklisted = profile is not None and profile.blacklisted
        if blacklisted and not reasons:  # the hold is off: still say so, nothing is refused
            reasons.append(_("%(customer)s is blacklisted (%(reason)s).")
                           % {"customer": profile.customer.name, "reason": profile.blacklist_reason})
        if not reasons:
            continue
        holds[customer_id] = [CustomerHold(
            label=_("Blacklisted") if blacklisted else _("On credit hold"), reasons=tuple(reasons),
            refuses=checking and policy.hold_mode == HoldMode.REFUSE,
            url=reverse("credit:customer", args=[customer_id]))]
    return holds


def credit_panel(organization: Organization, customer: Customer, today: dt.date) -> dict[str, Any]:
    """The credit figures of the customer page (four queries with or without a credit file)."""
    profile = (CreditProfile.objects.filter(organization=organization, customer=customer)
               .select_related("latest_score").first())
    exposure = selectors.customer_exposure(organization, customer, today)
    limit = profile.credit_limit if profile else None
    pending = (LimitRequest.objects.filter(organization=organization, customer=customer,
                                           status=LimitRequestStatus.PENDING).first())
    return {
        "customer": customer, "profile": profile, "score": profile.latest_score if profile else None,
        "exposure": exposure, "currency": organization.base_currency,
        "limit": limit, "headroom": None if limit is None else limit - exposure.outstanding,
        "used_percent": (None if not limit else int(exposure.outstanding * 100 / limit)),
        "pending_request": pending,
        "review_due": bool(profile and profile.next_review_on and profile.next_review_on <= today),
    }


def customer_page_register() -> None:
    """Tell the customer page (receivables, below credit) about credit's panel, holds and file (apps.py)."""
    customer_panel_register(CustomerPanel(key="credit", order=10, build=credit_panel,
                                          template="credit/_customer_panel.html"))
    customer_link_register(CustomerLink(key="credit", order=10, label=gettext_lazy("Credit file"),
                                        url_name="credit:customer"))
    customer_hold_source_register(customer_holds)
