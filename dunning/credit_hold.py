"""What dunning tells the credit hold: the open invoices that are disputed or under an agreed
payment plan (the hold counts them as overdue only when the organization's credit policy says so)."""

from __future__ import annotations

from tenancy.models import Organization

from .models import Dispute, DisputeStatus, PaymentPlan, PlanStatus


def overdue_exemptions(organization: Organization, customer_ids: list[int] | None) -> dict[str, set[int]]:
    """{"disputed": invoice ids with an open dispute, "payment_plan": invoice ids in an active plan}."""
    disputes = Dispute.objects.filter(organization=organization, status=DisputeStatus.OPEN)
    plans = PaymentPlan.invoices.through.objects.filter(paymentplan__organization=organization,
                                                        paymentplan__status=PlanStatus.ACTIVE)
    if customer_ids is not None:
        disputes = disputes.filter(customer_id__in=customer_ids)
        plans = plans.filter(paymentplan__customer_id__in=customer_ids)
    return {"disputed": set(disputes.values_list("invoice_id", flat=True)),
            "payment_plan": set(plans.values_list("invoice_id", flat=True))}
