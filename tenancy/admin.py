"""Django admin for support staff, scoped like everything else.

`OrganizationScopedAdmin` limits a staff user to the organizations they are a member of:
the change lists, the objects they can open, the organization filter and every foreign-key
choice. Superusers see everything. Writes that the app audits go through the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from . import services
from .errors import DomainError
from .models import AuditEntry, Membership, Organization, OutboxMessage, Role


def member_organization_ids(request) -> list[int] | None:
    """The organizations a staff user may see; None means all (superuser)."""
    if request.user.is_superuser:
        return None
    cache = getattr(request, "_inflow_admin_orgs", None)
    if cache is None:
        cache = list(Membership.objects.filter(user_id=request.user.pk).values_list("organization_id", flat=True))
        request._inflow_admin_orgs = cache
    return cache


def scope_queryset(queryset: QuerySet, request, field: str = "organization") -> QuerySet:
    org_ids = member_organization_ids(request)
    if org_ids is None:
        return queryset
    return queryset.filter(**{f"{field}__in": org_ids})


class OrganizationListFilter(admin.SimpleListFilter):
    """An organization filter that lists only the user's organizations (the stock one lists all)."""

    title = _("organization")
    parameter_name = "organization"

    def lookups(self, request, model_admin):
        return [(org.pk, org.name) for org in scope_queryset(Organization.objects.all(), request, field="pk")]

    def queryset(self, request, queryset):
        return queryset.filter(organization_id=self.value()) if self.value() else queryset


class OrganizationScopedAdmin:
    """Mixin for ModelAdmins of rows that carry `organization` (set `organization_field` otherwise)."""

    organization_field = "organization"

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request, self.organization_field)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = self._scope_related(formfield.queryset, request)
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = self._scope_related(formfield.queryset, request)
        return formfield

    @staticmethod
    def _scope_related(queryset: QuerySet, request) -> QuerySet:
        model = queryset.model
        if model is Organization:
            return scope_queryset(queryset, request, field="pk")
        if any(f.name == "organization" for f in model._meta.get_fields()):
            return scope_queryset(queryset, request)
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Support staff look; the ledger and the audit chain change only through the services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        """A many-to-many with an explicit through model (tenancy.distribution.TenantLink: the link rows
        carry organization_id) gets no form field in the admin; it is shown read-only like the rest."""
        links = [field.name for field in self.model._meta.many_to_many
                 if not field.remote_field.through._meta.auto_created]
        fields = list(super().get_readonly_fields(request, obj))
        return fields + [name for name in links if name not in fields]


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    organization_field = "pk"
    list_display = ("name", "slug", "base_currency", "timezone", "default_payment_terms_days", "default_language")
    search_fields = ("name", "slug")


def admin_actor(request):
    """Superusers act as the trusted system (they need no membership); staff act as themselves."""
    return None if request.user.is_superuser else request.user


class MembershipAdminForm(forms.ModelForm):
    request = None  # set by MembershipAdmin.get_form

    class Meta:
        model = Membership
        fields = ("organization", "user", "role")

    def clean(self):
        data = super().clean()
        organization = data.get("organization") or getattr(self.instance, "organization", None)
        if organization is not None:
            try:
                services.role_require(organization=organization, actor=admin_actor(self.request), role=Role.ADMIN)
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ("user", "organization", "role", "created_at")
    list_filter = (OrganizationListFilter, "role")
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)  # users are not organization rows: never list them all in a select

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request  # a fresh class per call: safe to set
        return form

    def get_readonly_fields(self, request, obj=None):
        return ("organization", "user") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        """Through membership_set, so the change is role-checked and audited (the form checked the role)."""
        saved = services.membership_set(organization=obj.organization, actor=admin_actor(request), user=obj.user,
                                        role=Role(obj.role))
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("organization", "sequence", "created_at", "actor_label", "action", "object_type", "object_id")
    list_filter = (OrganizationListFilter, "action", "object_type")
    search_fields = ("object_id", "actor_label", "action")
    ordering = ("organization", "-sequence")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(OrganizationScopedAdmin, ReadOnlyAdmin):
    list_display = ("created_at", "organization", "subject", "from_email")
    list_filter = (OrganizationListFilter,)
    search_fields = ("subject",)
    exclude = ("raw",)


class SuperuserOnlyAdmin:
    """Users and groups span every organization (a user may belong to several, a permission group
    grants admin rights): only superusers manage them. A staff user of one organization could
    otherwise list every tenant's users, reset another organization's admin password, or grant
    themselves permissions; members are managed per organization on the Settings page."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class InflowUserAdmin(SuperuserOnlyAdmin, UserAdmin):
    pass


class InflowGroupAdmin(SuperuserOnlyAdmin, GroupAdmin):
    pass


for _model, _admin in ((get_user_model(), InflowUserAdmin), (Group, InflowGroupAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
