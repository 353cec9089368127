"""Query filters of the lists (django-filter), one definition for the API and the pages: the
invoice, customer and payment pages narrow their rows with these FilterSets too (their forms
show the filters in UI_FIELDS). Every API list takes `updated_since` for sync.

The querysets they narrow are already scoped to the organization; a filter on another
organization's id simply matches nothing."""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _

from tenancy.dates import local_today
from tenancy.models import WebhookEvent
from tenancy.money import CURRENCY_CHOICES

from .models import CreditNote, Customer, CustomerStatus, FxRate, Invoice, InvoiceStatus, Payment, Segment, WriteOff
from .selectors import customer_search_q, overdue_filter

UPDATED_SINCE_HELP = _("Only rows changed at or after this instant (ISO 8601 with offset), for incremental sync.")


def _updated_since(field: str = "updated_at") -> filters.IsoDateTimeFilter:
    return filters.IsoDateTimeFilter(field_name=field, lookup_expr="gte", help_text=UPDATED_SINCE_HELP)


def _range(field: str, lookup: str, kind=filters.DateFilter, **kwargs):
    return kind(field_name=field, lookup_expr=lookup, **kwargs)


class YesNoAnyWidget(forms.Select):
    """A yes/no filter as a select (any, yes, no). Reads what the API sends (`true`/`false`) and
    what a checkbox sends (`on`), so `?overdue=on` and `?overdue=true` filter alike."""

    TRUE = ("true", "True", "1", "on")
    FALSE = ("false", "False", "0")

    def __init__(self, attrs=None):
        super().__init__(attrs, choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))])

    def format_value(self, value):
        return ["true" if value is True else "false" if value is False else ""]

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        return True if value in self.TRUE else False if value in self.FALSE else None


def _yes_no(method: str, label, help_text) -> filters.BooleanFilter:
    return filters.BooleanFilter(method=method, label=label, help_text=help_text, widget=YesNoAnyWidget)


def _organization(filterset: filters.FilterSet):
    """The organization whose rows are filtered: the API view's (session or API key), or the page's."""
    view = (getattr(filterset.request, "parser_context", None) or {}).get("view")
    return view.organization if view is not None else filterset.request.organization


class CustomerFilter(filters.FilterSet):
    UI_FIELDS = ("search", "status", "segment", "currency")

    updated_since = _updated_since()
    external_id = filters.CharFilter()
    status = filters.ChoiceFilter(choices=CustomerStatus.choices, label=_("Status"), empty_label=_("Any status"))
    segment = filters.ChoiceFilter(choices=Segment.choices, label=_("Segment"), empty_label=_("Any segment"))
    currency = filters.ChoiceFilter(choices=CURRENCY_CHOICES, label=_("Currency"), empty_label=_("Any currency"))
    search = filters.CharFilter(method="filter_search", label=_("Search"),
                               help_text=_("Name, legal name, external id or registration number contains."))

    class Meta:
        model = Customer
        fields = ()

    def filter_search(self, queryset, name, value):
        return queryset.filter(customer_search_q(value))


class InvoiceFilter(filters.FilterSet):
    UI_FIELDS = ("search", "status", "customer", "overdue", "due_date_from", "due_date_to", "currency")

    updated_since = _updated_since()
    search = filters.CharFilter(method="filter_search", label=_("Search"),
                                help_text=_("Invoice number or customer name contains."))
    status = filters.MultipleChoiceFilter(choices=InvoiceStatus.choices, label=_("Status"),
                                          help_text=_("Repeat for several."))
    customer = filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    external_id = filters.CharFilter()
    number = filters.CharFilter()
    currency = filters.ChoiceFilter(choices=CURRENCY_CHOICES, label=_("Currency"), empty_label=_("Any currency"))
    issue_date_from = _range("issue_date", "gte", label=_("Issued from"))
    issue_date_to = _range("issue_date", "lte", label=_("Issued to"))
    due_date_from = _range("due_date", "gte", label=_("Due from"))
    due_date_to = _range("due_date", "lte", label=_("Due to"))
    total_amount_min = _range("total_amount", "gte", filters.NumberFilter)
    total_amount_max = _range("total_amount", "lte", filters.NumberFilter)
    overdue = _yes_no("filter_overdue", _("Overdue"), _("Open and past due today (organization's time zone), or not."))

    class Meta:
        model = Invoice
        fields = ()

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(number__icontains=value) | Q(customer__name__icontains=value))

    def filter_overdue(self, queryset, name, value):
        overdue = overdue_filter(local_today(_organization(self).timezone))
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class PaymentFilter(filters.FilterSet):
    UI_FIELDS = ("customer", "received_on_from", "received_on_to", "currency", "unapplied")

    updated_since = _updated_since()
    customer = filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    external_id = filters.CharFilter()
    currency = filters.ChoiceFilter(choices=CURRENCY_CHOICES, label=_("Currency"), empty_label=_("Any currency"))
    received_on_from = _range("received_on", "gte", label=_("Received from"))
    received_on_to = _range("received_on", "lte", label=_("Received to"))
    amount_min = _range("amount", "gte", filters.NumberFilter)
    amount_max = _range("amount", "lte", filters.NumberFilter)
    unapplied = _yes_no("filter_unapplied", _("Unapplied cash"), _("Has an unapplied amount left, or not."))

    class Meta:
        model = Payment
        fields = ()

    def filter_unapplied(self, queryset, name, value):
        return queryset.filter(unapplied_amount__gt=0) if value else queryset.filter(unapplied_amount=0)


class FxRateFilter(filters.FilterSet):
    """The FX rates page (no API list of rates)."""

    UI_FIELDS = ("currency", "rate_date_from", "rate_date_to")

    currency = filters.ChoiceFilter(choices=CURRENCY_CHOICES, label=_("Currency"), empty_label=_("Any currency"))
    rate_date_from = _range("rate_date", "gte", label=_("From date"))
    rate_date_to = _range("rate_date", "lte", label=_("To date"))

    class Meta:
        model = FxRate
        fields = ()


# --- sort orders of the pages (?sort=key or -key); the first is the default ------------------

INVOICE_OPEN_FIRST = Case(When(voided_on__isnull=True, applied_amount__lt=F("total_amount"), then=Value(0)),
                          default=Value(1), output_field=IntegerField())
# Default: open invoices first, the most overdue (oldest due date) first among them.
INVOICE_SORTS = {
    "priority": (INVOICE_OPEN_FIRST, "due_date", "pk"),
    "due_date": ("due_date", "pk"), "-due_date": ("-due_date", "-pk"),
    "issue_date": ("issue_date", "pk"), "-issue_date": ("-issue_date", "-pk"),
    "number": ("number", "pk"), "-number": ("-number", "-pk"),
    "total": ("total_amount", "pk"), "-total": ("-total_amount", "-pk"),
    "balance": ("balance_due", "pk"), "-balance": ("-balance_due", "-pk"),
    "customer": ("customer__name", "due_date", "pk"), "-customer": ("-customer__name", "due_date", "pk"),
}
# Default: the largest open balance first.
CUSTOMER_SORTS = {
    "-outstanding": ("-outstanding", "name", "pk"), "outstanding": ("outstanding", "name", "pk"),
    "name": ("name", "pk"), "-name": ("-name", "-pk"),
}
PAYMENT_SORTS = {
    "-received_on": ("-received_on", "-pk"), "received_on": ("received_on", "pk"),
    "-amount": ("-amount", "-pk"), "amount": ("amount", "pk"),
    "-unapplied": ("-unapplied_amount", "-pk"), "unapplied": ("unapplied_amount", "pk"),
}


def sort_key(sorts: dict, requested: str | None) -> str:
    """The requested sort if the page knows it, else the page's default (its first)."""
    return requested if requested in sorts else next(iter(sorts))


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
