"""Read-only admin for support staff, scoped to the staff user's organizations like every admin."""

from django.contrib import admin

from tenancy.admin import OrganizationScopedAdmin, ReadOnlyAdmin

from .models import Claim, CoverRequest, Declaration, InsuranceAlert, Policy


@admin.register(Policy)
class PolicyAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("insurer_name", "policy_number", "organization", "starts_on", "ends_on", "insured_percentage")


@admin.register(CoverRequest)
class CoverRequestAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("customer", "organization", "request_type", "amount", "status", "decision", "decided_amount")
    list_filter = ("status", "decision", "request_type")
    raw_id_fields = ("customer", "policy", "requested_by", "decided_by")


@admin.register(Declaration)
class DeclarationAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("customer", "organization", "kind", "notified_on", "content_hash")
    list_filter = ("kind",)
    raw_id_fields = ("customer", "policy", "payment_plan", "created_by")


@admin.register(Claim)
class ClaimAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("pk", "customer", "organization", "status", "expected_indemnity", "paid_amount")
    list_filter = ("status",)
    raw_id_fields = ("customer", "policy", "payment", "created_by")


@admin.register(InsuranceAlert)
class InsuranceAlertAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("customer", "organization", "kind", "deadline", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("customer", "invoice")
