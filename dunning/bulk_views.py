"""The customer list's bulk actions that dunning provides (registered in receivables.listactions
from DunningConfig.ready()): assign a collector to the selected customers, send them reminders.
POST only, CSRF-checked, the organization's customers only; the services check the role again."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from receivables.listactions import BulkAction, bulk_action_register
from tenancy.errors import DomainError
from tenancy.models import Organization, Role
from tenancy.views import organization_required, safe_next

from . import selectors
from .bulk import customers_collector_assign, customers_remind, invoices_customers


class BulkCollectorForm(forms.Form):
    """`collector`: a collector of the organization's id, or `none` to unassign (an empty choice is refused)."""

    NOBODY = "none"
    collector = forms.CharField()

    def __init__(self, organization: Organization, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_collector(self):
        value = self.cleaned_data["collector"]
        if value == self.NOBODY:
            return None
        collector = selectors.collectors(self.organization).filter(pk=value).first() if value.isdigit() else None
        if collector is None:
            raise forms.ValidationError(_("Choose a collector of the organization."))
        return collector


def _ids(request: HttpRequest) -> list[int] | None:
    raw = request.POST.getlist("ids")
    if not all(value.isascii() and value.isdigit() for value in raw):
        return None
    return [int(value) for value in raw]


def _back(request: HttpRequest, fallback: str = "customer_list") -> HttpResponse:
    return redirect(safe_next(request, reverse(fallback)))


@organization_required
@require_POST
def customers_assign_collector(request: HttpRequest) -> HttpResponse:
    form = BulkCollectorForm(request.organization, request.POST)
    ids = _ids(request)
    if ids is None or not form.is_valid():
        messages.error(request, _("Choose a collector of the organization and customers of the list; nothing was done."))
        return _back(request)
    collector = form.cleaned_data["collector"]
    try:
        count = customers_collector_assign(organization=request.organization, actor=request.user, customer_ids=ids,
                                           collector=collector)
    except DomainError as exc:  # a role refusal (PermissionDenied) too
        messages.error(request, exc.message)
    else:
        name = collector.get_username() if collector else _("nobody")
        messages.success(request, _("%(count)s customers assigned to %(name)s.") % {"count": count, "name": name})
    return _back(request)


@organization_required
@require_POST
def customers_send_reminders(request: HttpRequest) -> HttpResponse:
    ids = _ids(request)
    if ids is None:
        messages.error(request, _("The selection holds customers that do not exist; nothing was done."))
        return _back(request)
    try:
        outcome = customers_remind(organization=request.organization, actor=request.user, customer_ids=ids,
                                   batch=request.POST.get("batch", ""))
    except DomainError as exc:  # a role refusal (PermissionDenied) too
        messages.error(request, exc.message)
        return _back(request)
    _outcome_messages(request, outcome)
    return _back(request)


def _outcome_messages(request: HttpRequest, outcome) -> None:
    if outcome.sent:
        messages.success(request, _("Reminders sent to %(count)s customers.") % {"count": len(outcome.sent)})
    for customer, reason in outcome.skipped:
        messages.warning(request, _("No reminder to %(name)s: %(reason)s") % {"name": customer.name, "reason": reason})


@organization_required
@require_POST
def invoices_send_reminders(request: HttpRequest) -> HttpResponse:
    """The invoice list's selection: one reminder to each of the selected invoices' customers (a
    reminder lists every overdue invoice of its customer, as the reminder page drafts it)."""
    ids = _ids(request)
    try:
        if ids is None:
            raise DomainError(_("The selection holds invoices that do not exist; nothing was done."))
        customer_ids = invoices_customers(request.organization, ids)
        outcome = customers_remind(organization=request.organization, actor=request.user, customer_ids=customer_ids,
                                   batch=request.POST.get("batch", ""))
    except DomainError as exc:  # a role refusal (PermissionDenied) too
        messages.error(request, exc.message)
        return _back(request, "invoice_list")
    _outcome_messages(request, outcome)
    return _back(request, "invoice_list")


def _collector_context(organization: Organization) -> dict:
    return {"collectors": list(selectors.collectors(organization))}


def _reminder_context(organization: Organization) -> dict:
    return {"batch": uuid.uuid4().hex}  # one per rendered form: posting it twice sends once


def bulk_actions_register() -> None:
    bulk_action_register(BulkAction(
        key="assign_collector", listing="customers", label=gettext_lazy("Assign collector"),
        url_name="dunning:customers_assign_collector", role=Role.CREDIT_MANAGER, order=10,
        template="dunning/_bulk_collector.html", context=_collector_context))
    bulk_action_register(BulkAction(
        key="send_reminders", listing="customers", label=gettext_lazy("Send reminders"),
        url_name="dunning:customers_send_reminders", role=Role.COLLECTOR, order=20,
        template="dunning/_bulk_reminders.html", context=_reminder_context))
    bulk_action_register(BulkAction(
        key="send_reminders", listing="invoices", label=gettext_lazy("Send reminders to their customers"),
        url_name="dunning:invoices_send_reminders", role=Role.COLLECTOR, order=20,
        template="dunning/_bulk_reminders.html", context=_reminder_context))
