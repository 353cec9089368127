"""Factoring's /api/v1/factoring/ routes, included by config/api_urls.py (inside its `api` namespace)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("factoring/facilities", api.FacilityViewSet, basename="factoring-facility")
router.register("factoring/assignments", api.AssignmentViewSet, basename="factoring-assignment")

urlpatterns = router.urls
