"""One-click collection actions (promise, dispute, payment plan, call, reminder) wherever an open
invoice or a customer is shown: `{% load dunning_actions %}{% customer_actions customer %}` and
`{% invoice_actions invoice %}`. Hidden from roles that may not collect (`can.collect`); each
action's page comes back to the page it was started from."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


def _url(name: str, query: dict, **kwargs) -> str:
    """The route's URL with `query`, or "" while another part of Inflow has not registered it yet."""
    try:
        url = reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""
    query = {key: value for key, value in query.items() if value}
    return f"{url}?{urlencode(query)}" if query else url


def _can_collect(context) -> bool:
    can = context.get("can")
    return bool(can is not None and getattr(can, "collect", False))


def _here(context) -> str:
    request = context.get("request")
    return request.get_full_path() if request is not None else ""


@register.inclusion_tag("dunning/_customer_actions.html", takes_context=True)
def customer_actions(context, customer, call=True):
    """Call, promise, dispute, payment plan and reminder buttons for one customer (`call=False`
    where the page logs calls itself, as the worklist does)."""
    pk, back = customer.pk, {"next": _here(context)}
    return {
        "show": _can_collect(context) and pk is not None,
        "customer": customer,
        "call_url": _url("dunning:customer_call", back, customer_pk=pk) if call else "",
        "promise_url": _url("dunning:customer_promise", back, customer_pk=pk),
        "dispute_url": _url("dunning:customer_dispute", back, customer_pk=pk),
        "plan_url": _url("dunning:plan_create", {}, customer_pk=pk),
        "reminder_url": _url("dunning:reminder_send", {}, customer_pk=pk),
    }


@register.inclusion_tag("dunning/_invoice_actions.html", takes_context=True)
def invoice_actions(context, invoice):
    """Call, promise, dispute and payment plan buttons for one invoice, while it is open."""
    is_open = invoice.voided_on is None and invoice.total_amount > invoice.applied_amount
    back = {"next": _here(context)}
    return {
        "show": _can_collect(context) and is_open,
        "invoice": invoice,
        "call_url": _url("dunning:customer_call", back, customer_pk=invoice.customer_id),
        "promise_url": _url("dunning:promise_create", back, invoice_pk=invoice.pk),
        "dispute_url": _url("dunning:dispute_open", back, invoice_pk=invoice.pk),
        "plan_url": _url("dunning:plan_create", {"invoice": invoice.pk}, customer_pk=invoice.customer_id),
    }
