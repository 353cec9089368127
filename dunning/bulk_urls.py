"""URLs of the customer list's bulk actions (dunning/bulk_views.py), under /dunning/ in dunning:."""

from django.urls import path

from . import bulk_views

urlpatterns = [
    path("customers/selected/collector/", bulk_views.customers_assign_collector, name="customers_assign_collector"),
    path("customers/selected/reminders/", bulk_views.customers_send_reminders, name="customers_send_reminders"),
    path("invoices/selected/reminders/", bulk_views.invoices_send_reminders, name="invoices_send_reminders"),
]
