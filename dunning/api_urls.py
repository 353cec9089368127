"""Dunning's /api/v1/ routes, included by config/api_urls.py (inside its `api` namespace)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("disputes", api.DisputeViewSet, basename="dispute")
router.register("promises", api.PromiseViewSet, basename="promise")
router.register("payment-plans", api.PaymentPlanViewSet, basename="payment-plan")
router.register("dunning-messages", api.DunningMessageViewSet, basename="dunning-message")

urlpatterns = router.urls
