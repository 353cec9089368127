from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/selected/export/", views.customer_bulk_export, name="customer_bulk_export"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_update, name="customer_update"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/new/", views.invoice_create, name="invoice_create"),
    path("invoices/selected/export/", views.invoice_bulk_export, name="invoice_bulk_export"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", views.invoice_update, name="invoice_update"),
    path("invoices/<int:pk>/void/", views.invoice_void, name="invoice_void"),
    path("invoices/<int:pk>/write-off/", views.invoice_write_off, name="invoice_write_off"),
    path("invoices/<int:pk>/credit/", views.invoice_credit_note, name="invoice_credit_note"),
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/new/", views.payment_record, name="payment_record"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/edit/", views.payment_update, name="payment_update"),
    path("credit-notes/<int:pk>/edit/", views.credit_note_update, name="credit_note_update"),
    path("write-offs/<int:pk>/edit/", views.write_off_update, name="write_off_update"),
    path("payments/<int:pk>/allocate/", views.payment_allocate, name="payment_allocate"),
    path("payments/<int:pk>/reverse/", views.payment_reverse, name="payment_reverse"),
    path("payments/<int:pk>/unapply/<int:invoice_pk>/", views.payment_unapply, name="payment_unapply"),
    path("payments/<int:pk>/refund/", views.payment_refund, name="payment_refund"),
    path("fx-rates/", views.fx_rate_list, name="fx_rate_list"),
    path("fx-rates/realized/", views.fx_realized, name="fx_realized"),
]
