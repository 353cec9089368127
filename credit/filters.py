"""The credit customer list's filter: receivables' CustomerFilter (the API's and the customer
list's one definition of a customer search), whose search also finds the credit file's unified
social credit code and foreign registry number."""

from __future__ import annotations

from django.db.models import Q

from receivables.filters import CustomerFilter
from receivables.selectors import customer_search_q


class CreditCustomerFilter(CustomerFilter):
    def filter_search(self, queryset, name, value):
        return queryset.filter(customer_search_q(value) | Q(credit_profile__uscc__icontains=value)
                               | Q(credit_profile__registry_id__icontains=value))
