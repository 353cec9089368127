"""Query filters of the API lists (django-filter). Every list takes `updated_since` for sync.

The querysets they narrow are already scoped to the organization; a filter on another
organization's id simply matches nothing."""

from __future__ import annotations

import django_filters as filters
from django.utils.translation import gettext_lazy as _

from tenancy.dates import local_today
from tenancy.models import WebhookEvent
from tenancy.money import CURRENCY_CHOICES

from .models import CreditNote, Customer, CustomerStatus, Invoice, InvoiceStatus, Payment, Segment, WriteOff
from .selectors import customer_search_q, overdue_filter

UPDATED_SINCE_HELP = _("Only rows changed at or after this instant (ISO 8601 with offset), for incremental sync.")


def _updated_since(field: str = "updated_at") -> filters.IsoDateTimeFilter:
    return filters.IsoDateTimeFilter(field_name=field, lookup_expr="gte", help_text=UPDATED_SINCE_HELP)


def _range(field: str, lookup: str, kind=filters.DateFilter, **kwargs):
    return kind(field_name=field, lookup_expr=lookup, **kwargs)


class CustomerFilter(filters.FilterSet):
    updated_since = _updated_since()
    external_id = filters.CharFilter()
    status = filters.ChoiceFilter(choices=CustomerStatus.choices)
    segment = filters.ChoiceFilter(choices=Segment.choices)
    currency = filters.ChoiceFilter(choices=CURRENCY_CHOICES)
    search = filters.CharFilter(method="filter_search",
                               help_text=_("Name, legal name, external id or registration number contains."))

    class Meta:
        model = Customer
        fields = ()

    def filter_search(self, queryset, name, value):
        return queryset.filter(customer_search_q(value))


class InvoiceFilter(filters.FilterSet):
    updated_since = _updated_since()
    status = filters.MultipleChoiceFilter(choices=InvoiceStatus.choices, help_text=_("Repeat for several."))
    customer = filters.NumberFilter(field_name="customer_id")
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    external_id = filters.CharFilter()
    number = filters.CharFilter()
    currency = filters.ChoiceFilter(choices=CURRENCY_CHOICES)
    issue_date_from = _range("issue_date", "gte")
    issue_date_to = _range("issue_date", "lte")
    due_date_from = _range("due_date", "gte")
    due_date_to = _range("due_date", "lte")
    total_amount_min = _range("total_amount", "gte", filters.NumberFilter)
    total_amount_max = _range("total_amount", "lte", filters.NumberFilter)
    overdue = filters.BooleanFilter(method="filter_overdue",
                                    help_text=_("Open and past due today (organization's time zone), or not."))

    class Meta:
        model = Invoice
        fields = ()

    def filter_overdue(self, queryset, name, value):
        organization = self.request.parser_context["view"].organization
        overdue = overdue_filter(local_today(organization.timezone))
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class PaymentFilter(filters.FilterSet):
    updated_since = _updated_since()
    customer = filters.NumberFilter(field_name="customer_id")
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    external_id = filters.CharFilter()
    currency = filters.ChoiceFilter(choices=CURRENCY_CHOICES)
    received_on_from = _range("received_on", "gte")
    received_on_to = _range("received_on", "lte")
    amount_min = _range("amount", "gte", filters.NumberFilter)
    amount_max = _range("amount", "lte", filters.NumberFilter)
    unapplied = filters.BooleanFilter(method="filter_unapplied", help_text=_("Has an unapplied amount left, or not."))

    class Meta:
        model = Payment
        fields = ()

    def filter_unapplied(self, queryset, name, value):
        return queryset.filter(unapplied_amount__gt=0) if value else queryset.filter(unapplied_amount=0)


CREATED_SINCE_HELP = _("Only rows created at or after this instant (ISO 8601 with offset); prefer updated_since, "
                       "which also returns corrected rows.")


class CreditNoteFilter(filters.FilterSet):
    updated_since = _updated_since()
    created_since = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text=CREATED_SINCE_HELP)
    customer = filters.NumberFilter(field_name="customer_id")
    external_id = filters.CharFilter()
    currency = filters.ChoiceFilter(choices=CURRENCY_CHOICES)
    issued_on_from = _range("issued_on", "gte")
    issued_on_to = _range("issued_on", "lte")

    class Meta:
        model = CreditNote
        fields = ()


class WriteOffFilter(filters.FilterSet):
    updated_since = _updated_since()
    created_since = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text=CREATED_SINCE_HELP)
    invoice = filters.NumberFilter(field_name="invoice_id")
    written_off_on_from = _range("written_off_on", "gte")
    written_off_on_to = _range("written_off_on", "lte")

    class Meta:
        model = WriteOff
        fields = ()


class EventFilter(filters.FilterSet):
    created_since = _updated_since("created_at")
    type = filters.CharFilter()

    class Meta:
        model = WebhookEvent
        fields = ()
