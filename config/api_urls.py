"""/api/ routes: v1 resources, the OpenAPI schema and docs."""

urlpatterns = []
