"""`{% insurance_cover_facts customer %}`: the buyer cover in force, for the credit page's limit facts
(the credit page shows cover beside the credit limit without credit importing insurance code)."""

from __future__ import annotations

from django import template

from tenancy.dates import local_today

from .. import selectors

register = template.Library()


@register.inclusion_tag("insurance/_cover_facts.html", takes_context=True)
def insurance_cover_facts(context, customer) -> dict:
    organization = context.get("organization") or getattr(context.get("request"), "organization", None)
    if organization is None or customer is None or customer.organization_id != organization.pk:
        return {"covers": []}
    today = local_today(organization.timezone)
    covers = selectors.covers_as_of(organization, today, customer_ids=[customer.pk])
    policies = {p.pk: p for p in selectors.policy_list(organization).filter(pk__in={k[0] for k in covers})}
    return {"covers": [(policies[key[0]], cover) for key, cover in covers.items() if key[0] in policies],
            "customer": customer}
