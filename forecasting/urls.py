from django.urls import path

from . import views

app_name = "forecasting"
urlpatterns = [
    path("", views.forecast, name="forecast"),
    path("weeks/<str:week_start>/", views.forecast_week, name="week"),
    path("invoices/<int:pk>/", views.invoice_prediction, name="invoice"),
    path("provisions/", views.provisions, name="provisions"),
    path("provisions/pdf/", views.provisions_pdf, name="provisions_pdf"),
    path("provisions/overlays/", views.overlay_create, name="overlay_create"),
    path("provisions/assessments/", views.assessment_create, name="assessment_create"),
]
