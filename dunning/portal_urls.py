from django.urls import path

from . import portal_views

app_name = "portal"

urlpatterns = [
    path("<str:token>/", portal_views.portal_home, name="home"),
    path("<str:token>/statement.pdf", portal_views.portal_statement_pdf, name="statement_pdf"),
    path("<str:token>/invoices/<int:invoice_id>/dispute/", portal_views.portal_dispute, name="dispute"),
    path("<str:token>/invoices/<int:invoice_id>/promise/", portal_views.portal_promise, name="promise"),
]
