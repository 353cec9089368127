"""Insurance's /api/v1/insurance/ routes, included by config/api_urls.py (inside its `api` namespace)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("insurance/policies", api.PolicyViewSet, basename="insurance-policy")
router.register("insurance/cover-requests", api.CoverRequestViewSet, basename="insurance-cover-request")
router.register("insurance/declarations", api.DeclarationViewSet, basename="insurance-declaration")
router.register("insurance/claims", api.ClaimViewSet, basename="insurance-claim")

urlpatterns = [
    path("insurance/deadlines/", api.DeadlineApi.as_view(), name="insurance-deadlines"),
    *router.urls,
]
