"""What dunning marks on invoices in every list (receivables/markers.py): disputed, promised, on a
payment plan. Three queries for any number of invoices."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from receivables.markers import InvoiceMarker
from tenancy.models import Organization
from tenancy.money import money_format

from .models import Dispute, DisputeStatus, PaymentPlan, PlanStatus, PromiseStatus, PromiseToPay


def collection_markers(organization: Organization, invoice_ids: list[int]) -> dict[int, list[InvoiceMarker]]:
    """Invoice id -> "Disputed", "Promised by <date>", "Payment plan" markers."""
    markers: dict[int, list[InvoiceMarker]] = defaultdict(list)
    disputed = (Dispute.objects.filter(organization=organization, invoice_id__in=invoice_ids,
                                       status=DisputeStatus.OPEN)
                .values("invoice_id", "currency").annotate(s=Sum("amount")).order_by("invoice_id"))
    disputes_url = reverse("dunning:dispute_list") + "?status=open"
    for row in disputed:
        markers[row["invoice_id"]].append(InvoiceMarker(
            _("Disputed: %(amount)s") % {"amount": money_format(row["s"], row["currency"])}, disputes_url))
    promised = (PromiseToPay.invoices.through.objects
                .filter(promisetopay__organization=organization, promisetopay__status=PromiseStatus.OPEN,
                        invoice_id__in=invoice_ids)
                .values_list("invoice_id", "promisetopay__promised_date").order_by("invoice_id"))
    promises_url = reverse("dunning:promise_list")
    for invoice_id, promised_date in promised:
        markers[invoice_id].append(InvoiceMarker(
            _("Promised by %(date)s") % {"date": promised_date.isoformat()}, promises_url))
    planned = (PaymentPlan.invoices.through.objects
               .filter(paymentplan__organization=organization, paymentplan__status=PlanStatus.ACTIVE,
                       invoice_id__in=invoice_ids)
               .values_list("invoice_id", flat=True).distinct())
    plans_url = reverse("dunning:plan_list")
    for invoice_id in planned:
        markers[invoice_id].append(InvoiceMarker(_("On a payment plan"), plans_url))
    return dict(markers)
