from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("settings/integrations/", include("tenancy.integrations_urls")),
    path("", include("tenancy.urls")),
    path("", include("receivables.urls")),
    path("import/", include("receivables.importing.urls")),
    path("reports/", include("receivables.reporting.urls")),
    path("dunning/", include("dunning.urls")),
    path("portal/", include("dunning.portal_urls")),
    path("credit/", include("credit.urls")),
    path("factoring/", include("factoring.urls")),
    path("insurance/", include("insurance.urls")),
    path("forecast/", include("forecasting.urls")),
]
# Uploads (MEDIA_ROOT) are never served as static files, not even under DEBUG: each is handed out
# by a view that checks the organization (credit documents), or not at all (import files).
