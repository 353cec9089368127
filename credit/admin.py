"""Read-only admin for support staff, scoped to the staff user's organizations like every admin."""

from django.contrib import admin

from tenancy.admin import OrganizationScopedAdmin, ReadOnlyAdmin

from .models import CreditAlert, CreditProfile, CreditScore, LimitRequest


@admin.register(CreditProfile)
class CreditProfileAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("customer", "organization", "credit_limit", "blacklisted", "next_review_on")
    list_filter = ("blacklisted",)
    raw_id_fields = ("customer", "latest_score")


@admin.register(CreditScore)
class CreditScoreAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("customer", "organization", "as_of", "score", "grade", "provisional")
    list_filter = ("grade",)
    raw_id_fields = ("customer",)


@admin.register(LimitRequest)
class LimitRequestAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("customer", "organization", "requested_limit", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("customer", "score", "requested_by")


@admin.register(CreditAlert)
class CreditAlertAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("customer", "organization", "kind", "created_at", "digested_at")
    list_filter = ("kind",)
    raw_id_fields = ("customer",)
