from django.urls import path

from . import views

app_name = "credit"
urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/decide/", views.approval_decide, name="approval_decide"),
    path("customers/<int:pk>/", views.customer_credit, name="customer"),
    path("customers/<int:pk>/documents/<int:document_pk>/", views.customer_document, name="customer_document"),
    path("customers/<int:pk>/<slug:action>/", views.customer_credit_action, name="customer_action"),
]
