from django.urls import path

from . import integrations_views as views

app_name = "integrations"

urlpatterns = [
    path("", views.integrations_index, name="index"),
    path("keys/", views.api_key_create_view, name="key_create"),
    path("keys/<int:pk>/revoke/", views.api_key_revoke_view, name="key_revoke"),
    path("webhooks/", views.webhook_endpoint_create_view, name="endpoint_create"),
    path("webhooks/<int:pk>/", views.webhook_endpoint_detail, name="endpoint"),
    path("webhooks/<int:pk>/toggle/", views.webhook_endpoint_toggle_view, name="endpoint_toggle"),
    path("deliveries/<int:pk>/redeliver/", views.webhook_redeliver_view, name="redeliver"),
]
