"""Forecasting's /api/v1/ routes, included by config/api_urls.py (inside its `api` namespace)."""

from django.urls import path

from . import api

urlpatterns = [
    path("forecast/cash/", api.CashForecastApi.as_view(), name="forecast-cash"),
    path("forecast/cash/weeks/<str:week_start>/", api.ForecastWeekApi.as_view(), name="forecast-week"),
    path("forecast/accuracy/", api.ForecastAccuracyApi.as_view(), name="forecast-accuracy"),
    # Any id matches, so an id that is not a number is the API's JSON 404 rather than Django's HTML one.
    path("forecast/invoices/<str:pk>/", api.InvoicePredictionApi.as_view(), name="forecast-invoice"),
    path("provisions/", api.ProvisionApi.as_view(), name="provisions"),
    path("provisions/movement/", api.ProvisionMovementApi.as_view(), name="provisions-movement"),
]
