"""The daily deadline run: every insured invoice's state recomputed, a warning before each deadline
(notification, claim), a visible "cover lost" once one is missed, buyer cover about to expire.

Each warning is an InsuranceAlert unique per dedupe key (the invoice and the deadline), so running
twice, or on two workers, warns once. New warnings become webhook events and one follow-up task per
buyer on the collectors' worklist, mailed to the buyer's collector (dunning.services.collector_notify)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables.models import Customer
from tenancy.dates import local_today
from tenancy.models import Organization
from tenancy.money import quantize

from .. import selectors
from ..models import AlertKind, InsuranceAlert, Policy
from ..selectors import DeadlineState

RUN_LOCK_CLASS = 16_001  # pg_advisory_xact_lock's first key: the insurance deadline run


def _warnings(organization: Organization, as_of: dt.date) -> list[InsuranceAlert]:
    now = timezone.now()
    alerts = []
    for row in selectors.insured_deadlines(organization, as_of=as_of):
        if row.state == DeadlineState.DUE_SOON:
            notified = row.notified_on is not None
            kind = AlertKind.CLAIM_DUE_SOON if notified else AlertKind.NOTIFY_DUE_SOON
            deadline = row.claim_by if notified else row.notify_by
            message = (_("File the claim for invoice %(number)s by %(date)s.") if notified
                       else _("Notify the insurer of overdue invoice %(number)s by %(date)s.")) % {
                "number": row.invoice_number, "date": deadline.isoformat()}
        elif row.state == DeadlineState.MISSED:
            kind, deadline = AlertKind.COVER_LOST, None
            message = _("Invoice %(number)s: a deadline was missed; its insurance cover is lost.") % {
                "number": row.invoice_number}
        else:
            continue
        key = f"{kind}:{row.invoice_id}:{deadline.isoformat() if deadline else ''}"
        alerts.append(InsuranceAlert(organization=organization, customer_id=row.customer_id, invoice_id=row.invoice_id,
                                     kind=kind, deadline=deadline, message=message[:500], dedupe_key=key,
                                     created_at=now))
    policies = {p.pk: p for p in Policy.objects.filter(organization=organization)}
    for cover in selectors.covers_as_of(organization, as_of).values():
        policy = policies.get(cover.policy_id)
        if (policy and cover.amount > 0 and cover.valid_until is not None
                and (cover.valid_until - as_of).days <= max(policy.warning_days, 30)):
            alerts.append(InsuranceAlert(
                organization=organization, customer_id=cover.customer_id, kind=AlertKind.COVER_EXPIRING,
                deadline=cover.valid_until, created_at=now, dedupe_key=f"cover_expiring:{cover.request_id}",
                message=(_("Buyer cover of %(amount)s %(currency)s expires on %(date)s; ask for a prolongation.")
                         % {"amount": f"{quantize(cover.amount, cover.currency):,}", "currency": cover.currency,
                            "date": cover.valid_until.isoformat()})[:500]))
    return alerts


def _runs_serialize(organization: Organization) -> None:
    """Two runs for one organization (beat firing twice, two workers) take turns, so the second sees
    the first's warnings and raises, announces and assigns nothing twice."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RUN_LOCK_CLASS, organization.pk])


@transaction.atomic
def deadline_warnings_run(*, organization: Organization, as_of: dt.date | None = None) -> list[InsuranceAlert]:
    """Recompute every insured invoice's deadlines on `as_of` (default: today) and raise the warnings
    not raised before; returns the new ones."""
    from dunning import services as dunning_services
    from tenancy import webhooks

    as_of = as_of or local_today(organization.timezone)
    _runs_serialize(organization)
    candidates = _warnings(organization, as_of)
    existing = set(InsuranceAlert.objects.filter(organization=organization,
                                                 dedupe_key__in=[a.dedupe_key for a in candidates])
                   .values_list("dedupe_key", flat=True))
    new = [a for a in candidates if a.dedupe_key not in existing]
    InsuranceAlert.objects.bulk_create(new, ignore_conflicts=True)
    if not new:
        return []
    for type_, kinds in (("insurance.deadline_warning", {AlertKind.NOTIFY_DUE_SOON, AlertKind.CLAIM_DUE_SOON,
                                                         AlertKind.COVER_EXPIRING}),
                         ("insurance.cover_lost", {AlertKind.COVER_LOST})):
        payloads = [{"kind": a.kind, "customer": a.customer_id, "invoice": a.invoice_id, "deadline": a.deadline,
                     "message": a.message} for a in new if a.kind in kinds]
        if payloads and type_ in webhooks.EVENT_TYPES:
            webhooks.events_emit(organization=organization, type=type_, payloads=payloads)
    by_customer: dict[int, list[InsuranceAlert]] = defaultdict(list)
    for alert in new:
        if alert.invoice_id is not None:
            by_customer[alert.customer_id].append(alert)
    customers = Customer.objects.in_bulk(list(by_customer))
    for customer_id, alerts in by_customer.items():
        dunning_services.collector_notify(
            organization=organization, customer=customers[customer_id],
            title=(_("Credit insurance: %(count)s deadline(s) for %(customer)s")
                   % {"count": len(alerts), "customer": customers[customer_id].name})[:300],
            body="\n".join(alert.message for alert in alerts))
    return new
