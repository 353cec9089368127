"""Django admin for the receivables ledger: read-only and scoped to the staff user's organizations.

Every change to the ledger goes through receivables.services (role checks, locks, audit
chain); the admin is where support staff look, not where they write."""

from django.contrib import admin

from tenancy.admin import OrganizationListFilter, OrganizationScopedAdmin, ReadOnlyAdmin

from .models import Allocation, CreditNote, Customer, FxRate, ImportJob, ImportMapping, Invoice, Payment, WriteOff


class LedgerAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_filter = (OrganizationListFilter,)
    list_select_related = ("organization",)


@admin.register(Customer)
class CustomerAdmin(LedgerAdmin):
    list_display = ("name", "organization", "currency", "payment_terms_days", "segment", "status", "external_id")
    list_filter = (OrganizationListFilter, "status", "segment")
    search_fields = ("name", "legal_name", "registration_number", "external_id")


@admin.register(Invoice)
class InvoiceAdmin(LedgerAdmin):
    list_display = ("number", "organization", "customer", "issue_date", "due_date", "currency", "total_amount",
                    "applied_amount", "status")
    list_filter = (OrganizationListFilter, "status", "currency")
    list_select_related = ("organization", "customer")
    search_fields = ("number", "external_id", "customer__name")
    date_hierarchy = "due_date"


@admin.register(Payment)
class PaymentAdmin(LedgerAdmin):
    list_display = ("received_on", "organization", "customer", "amount", "unapplied_amount", "currency", "method",
                    "reference")
    list_select_related = ("organization", "customer")
    search_fields = ("reference", "external_id", "customer__name")


@admin.register(CreditNote)
class CreditNoteAdmin(LedgerAdmin):
    list_display = ("number", "organization", "customer", "issued_on", "amount", "unapplied_amount", "currency")
    list_select_related = ("organization", "customer")
    search_fields = ("number", "customer__name")


@admin.register(WriteOff)
class WriteOffAdmin(LedgerAdmin):
    list_display = ("invoice", "organization", "written_off_on", "amount", "currency", "reason")
    list_select_related = ("organization", "invoice")


@admin.register(Allocation)
class AllocationAdmin(LedgerAdmin):
    list_display = ("invoice", "organization", "kind", "amount", "currency", "applied_on")
    list_filter = (OrganizationListFilter, "kind")
    list_select_related = ("organization", "invoice")


@admin.register(FxRate)
class FxRateAdmin(LedgerAdmin):
    list_display = ("currency", "organization", "rate_date", "rate")
    list_filter = (OrganizationListFilter, "currency")


@admin.register(ImportMapping)
class ImportMappingAdmin(LedgerAdmin):
    list_display = ("name", "organization", "kind", "updated_at")


@admin.register(ImportJob)
class ImportJobAdmin(LedgerAdmin):
    list_display = ("file_name", "organization", "kind", "status", "total_rows", "processed_rows", "created_at")
    list_filter = (OrganizationListFilter, "status", "kind")
