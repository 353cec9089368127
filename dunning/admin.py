"""Django admin of dunning for support staff, scoped to the staff user's organizations.

What dunning sent (runs, messages, notices) and the customer timeline are evidence: read-only.
Disputes, promises, plans and tasks change only through dunning.services (role checks, audit
chain), so support staff look at them here. A policy's terms may be changed here, through
dunning_policy_update, which audits the change."""

from django.contrib import admin

from tenancy.admin import OrganizationListFilter, OrganizationScopedAdmin, ReadOnlyAdmin, admin_actor

from . import services
from .models import (
    CollectionTask,
    CustomerDunning,
    CustomerEvent,
    Dispute,
    DunningMessage,
    DunningNotice,
    DunningPolicy,
    DunningRun,
    DunningStep,
    Installment,
    MessageTemplate,
    OneOffReminder,
    PaymentPlan,
    PromiseToPay,
)

POLICY_TERMS = ("name", "tone", "business_days_only", "holiday_calendars", "catch_up", "hold_when_credit_covers",
                "interest_mode", "interest_rate", "statutory_base_rate",
                "interest_margin", "discount_percent", "discount_days")


class DunningReadOnlyAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_filter = (OrganizationListFilter,)
    list_select_related = ("organization",)


class StepInline(admin.TabularInline):
    model = DunningStep
    fields = ("days_from_due", "channel", "template", "fee_amount", "fee_currency", "call_task")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DunningPolicy)
class DunningPolicyAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "organization", "is_default", "tone", "interest_mode", "business_days_only")
    list_filter = (OrganizationListFilter, "tone")
    list_select_related = ("organization",)
    fields = ("organization", "is_default", *POLICY_TERMS)
    readonly_fields = ("organization", "is_default")
    inlines = [StepInline]

    def has_add_permission(self, request):
        return False  # created with their steps on the policies page

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Through dunning_policy_update: role-checked (admins) and audited."""
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in POLICY_TERMS}
        if changes:
            original = DunningPolicy.objects.get(pk=obj.pk)
            services.dunning_policy_update(organization=obj.organization, actor=admin_actor(request),
                                           policy=original, **changes)


@admin.register(CustomerDunning)
class CustomerDunningAdmin(DunningReadOnlyAdmin):
    list_display = ("customer", "organization", "policy", "excluded", "collector", "broken_promises")
    list_select_related = ("organization", "customer", "policy", "collector")


@admin.register(DunningRun)
class DunningRunAdmin(DunningReadOnlyAdmin):
    list_display = ("run_date", "organization", "status", "invoices_evaluated", "messages_count", "notices_count",
                    "tasks_count", "triggered_by", "started_at")
    list_filter = (OrganizationListFilter, "status")
    date_hierarchy = "run_date"


@admin.register(DunningMessage)
class DunningMessageAdmin(DunningReadOnlyAdmin):
    list_display = ("created_at", "organization", "customer", "subject", "language", "status", "sent_at")
    list_filter = (OrganizationListFilter, "status", "language")
    list_select_related = ("organization", "customer")
    search_fields = ("subject", "customer__name", "content_hash")
    exclude = ("letter_pdf",)


@admin.register(DunningNotice)
class DunningNoticeAdmin(DunningReadOnlyAdmin):
    list_display = ("created_at", "organization", "invoice", "step_days", "channel", "days_overdue", "amount_due",
                    "currency")
    list_filter = (OrganizationListFilter, "channel")
    list_select_related = ("organization", "invoice")
    search_fields = ("invoice__number",)


@admin.register(Dispute)
class DisputeAdmin(DunningReadOnlyAdmin):
    list_display = ("invoice", "organization", "customer", "amount", "currency", "reason", "status", "opened_on",
                    "due_on", "resolution")
    list_filter = (OrganizationListFilter, "status", "reason")
    list_select_related = ("organization", "invoice", "customer")
    search_fields = ("invoice__number", "customer__name")


@admin.register(PromiseToPay)
class PromiseAdmin(DunningReadOnlyAdmin):
    list_display = ("customer", "organization", "amount", "currency", "promised_date", "pause_until", "status")
    list_filter = (OrganizationListFilter, "status")
    list_select_related = ("organization", "customer")


class InstallmentInline(admin.TabularInline):
    model = Installment
    fields = ("sequence", "due_date", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PaymentPlan)
class PaymentPlanAdmin(DunningReadOnlyAdmin):
    list_display = ("customer", "organization", "total_amount", "currency", "start_date", "status")
    list_filter = (OrganizationListFilter, "status")
    list_select_related = ("organization", "customer")
    inlines = [InstallmentInline]


@admin.register(CollectionTask)
class CollectionTaskAdmin(DunningReadOnlyAdmin):
    list_display = ("title", "organization", "kind", "status", "assigned_to", "due_on", "last_outcome")
    list_filter = (OrganizationListFilter, "status", "kind")
    list_select_related = ("organization", "assigned_to")


@admin.register(CustomerEvent)
class CustomerEventAdmin(DunningReadOnlyAdmin):
    list_display = ("occurred_at", "organization", "customer", "kind", "summary", "actor_label")
    list_filter = (OrganizationListFilter, "kind")
    list_select_related = ("organization", "customer")
    search_fields = ("summary", "customer__name", "content_hash")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(DunningReadOnlyAdmin):
    """An organization's own wording (issue 14 item 4): changed by its admins on the wording page, audited."""

    list_display = ("template", "language", "organization", "subject", "updated_at")


@admin.register(OneOffReminder)
class OneOffReminderAdmin(DunningReadOnlyAdmin):
    """One-off reminders: evidence, like the messages they point to."""

    list_display = ("created_at", "organization", "customer", "template", "created_by")
    list_select_related = ("organization", "customer", "created_by")
