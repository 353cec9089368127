"""Read-only admin for support staff, scoped to the staff user's organizations like every admin."""

from django.contrib import admin

from tenancy.admin import OrganizationScopedAdmin, ReadOnlyAdmin

from .models import Assignment, AssignmentLine, Entry, Facility, FactorStatement, Repurchase


@admin.register(Facility)
class FacilityAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("name", "organization", "factor_name", "mode", "disclosed", "recourse", "currency", "limit")
    list_filter = ("mode", "disclosed", "recourse")


@admin.register(Assignment)
class AssignmentAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("number", "organization", "facility", "status", "assigned_on", "face_total", "funded_on")
    list_filter = ("status",)
    raw_id_fields = ("facility",)


@admin.register(AssignmentLine)
class AssignmentLineAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("invoice", "organization", "assignment", "state", "face", "advance", "fee", "ended_on")
    list_filter = ("state",)
    raw_id_fields = ("assignment", "invoice", "customer", "facility")


@admin.register(Entry)
class EntryAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("entry_date", "organization", "facility", "kind", "amount", "currency", "line")
    list_filter = ("kind",)
    raw_id_fields = ("facility", "assignment", "line", "statement")


@admin.register(Repurchase)
class RepurchaseAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("line", "organization", "repurchased_on", "reason", "advance_repaid", "interest")
    raw_id_fields = ("line",)


@admin.register(FactorStatement)
class FactorStatementAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("file_name", "organization", "facility", "row_count", "created_at")
    raw_id_fields = ("facility",)
