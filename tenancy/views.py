"""Browser pages of tenancy: sign-in, organization and language switchers, outbox, settings.

Every organization page goes through `organization_required`: signed in, and a member of
`request.organization`; without a membership the page is a 404, like another organization's row."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from . import services
from .errors import DomainError
from .forms import MembershipForm, OrganizationSettingsForm, OrganizationSwitchForm, form_error_from_domain
from .middleware import SESSION_ORGANIZATION_KEY
from .models import Language, Membership, OutboxMessage, Role, role_covers

PAGE_SIZE = 25


def organization_required(view):
    """Signed in and a member of an organization (else 404); the view reads request.organization."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if getattr(request, "organization", None) is None:
            raise Http404(_("You are not a member of any organization."))
        return view(request, *args, **kwargs)

    return wrapper


def role_at_least(request: HttpRequest, role: Role) -> bool:
    """For showing or hiding buttons only; services check roles again on every write."""
    membership = getattr(request, "membership", None)
    return membership is not None and role_covers(membership.role, role)


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def paginate(request: HttpRequest, queryset, per_page: int = PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
@require_POST
def organization_switch(request: HttpRequest) -> HttpResponse:
    """Make another of the user's organizations the current one; a non-member gets a 404."""
    form = OrganizationSwitchForm(request.POST)
    if not form.is_valid():
        raise Http404
    membership = Membership.objects.filter(user=request.user, organization_id=form.cleaned_data["organization"]).first()
    if membership is None:
        raise Http404
    request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    return redirect(safe_next(request, reverse("dashboard")))


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the UI language: saved on the user's profile, and in the cookie via Django's set_language."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in Language.values:
        services.user_language_set(user=request.user, language=language)
    return set_language(request)


@organization_required
def outbox_list(request: HttpRequest) -> HttpResponse:
    messages_qs = OutboxMessage.objects.filter(organization=request.organization).order_by("-created_at", "-pk")
    return render(request, "tenancy/outbox_list.html", {"page": paginate(request, messages_qs)})


@organization_required
def outbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, organization=request.organization, pk=pk)
    return render(request, "tenancy/outbox_detail.html", {"message": message})


@organization_required
def organization_settings(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    form = OrganizationSettingsForm.for_organization(organization, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(organization=organization, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        except ValidationError as exc:  # the model's own validators (time zone, buckets)
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("organization_settings")
        organization.refresh_from_db()
    return render(request, "tenancy/settings.html", _settings_context(request, settings_form=form))


@organization_required
@require_POST
def membership_set(request: HttpRequest) -> HttpResponse:
    form = MembershipForm(request.POST, organization=request.organization)
    if form.is_valid():
        try:
            services.membership_set(organization=request.organization, actor=request.user,
                                    user=form.cleaned_data["user"], role=Role(form.cleaned_data["role"]))
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("%(user)s is now %(role)s.") % {
                "user": form.cleaned_data["user"].get_username(), "role": Role(form.cleaned_data["role"]).label})
            return redirect("organization_settings")
    return render(request, "tenancy/settings.html", _settings_context(request, member_form=form))


def _settings_context(request: HttpRequest, *, settings_form=None, member_form=None) -> dict:
    organization = request.organization
    return {
        "settings_form": settings_form or OrganizationSettingsForm.for_organization(organization),
        "member_form": member_form or MembershipForm(organization=organization),
        "memberships": Membership.objects.filter(organization=organization).select_related("user")
        .order_by("user__username"),
        "is_admin": role_at_least(request, Role.ADMIN),
    }
