"""The REST API's shared machinery: API keys and authentication, the organization-scoped base
view (fails closed), uniform errors, idempotency, ETags, keyset pagination and the schema.

Resource views live in each app's `api.py`; they subclass `tenancy.api.views.OrganizationViewSet`."""
