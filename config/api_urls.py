"""/api/ routes: v1 resources, the OpenAPI schema and docs (Swagger UI served locally)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from credit import api as credit_api
from receivables import api as receivables_api

app_name = "api"

router = SimpleRouter()
router.register("customers", receivables_api.CustomerViewSet, basename="customer")
router.register("invoices", receivables_api.InvoiceViewSet, basename="invoice")
router.register("payments", receivables_api.PaymentViewSet, basename="payment")
router.register("credit-notes", receivables_api.CreditNoteViewSet, basename="credit-note")
router.register("write-offs", receivables_api.WriteOffViewSet, basename="write-off")
router.register("events", receivables_api.EventViewSet, basename="event")
router.register("credit-profiles", credit_api.CreditProfileViewSet, basename="credit-profile")
router.register("credit-financials", credit_api.FinancialStatementViewSet, basename="credit-financial")
router.register("credit-signals", credit_api.ExternalSignalViewSet, basename="credit-signal")
router.register("credit-limit-requests", credit_api.LimitRequestViewSet, basename="credit-limit-request")
router.register("credit-scores", credit_api.CreditScoreViewSet, basename="credit-score")
router.register("credit-alerts", credit_api.CreditAlertViewSet, basename="credit-alert")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/", include("dunning.api_urls")),
    path("v1/", include("forecasting.api_urls")),
    path("v1/", include("insurance.api_urls")),
    path("v1/", include("factoring.api_urls")),
    path("v1/reports/aging/", receivables_api.AgingReportApi.as_view(), name="report-aging"),
    path("v1/reports/dso/", receivables_api.DsoReportApi.as_view(), name="report-dso"),
    path("v1/reports/realized-fx/", receivables_api.RealizedFxReportApi.as_view(), name="report-realized-fx"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its JavaScript as a file: the Content-Security-Policy allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
