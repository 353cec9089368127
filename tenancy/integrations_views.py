"""Settings → Integrations: API keys and webhook endpoints, for organization admins.

An API key's token and an endpoint's signing secret are rendered once, in the response to the
POST that created them; they are never put in a URL, the session or a message."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .api.keys import api_key_create, api_key_revoke
from .errors import DomainError
from .forms import form_error_from_domain
from .models import ApiKey, ApiScope, Role, WebhookDelivery, WebhookEndpoint
from .views import organization_required, role_at_least
from .webhooks import EVENT_TYPES, webhook_endpoint_create, webhook_endpoint_set_active, webhook_redeliver

DELIVERY_LOG_SIZE = 100


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("What uses it, e.g. “SAP nightly sync”."))
    scopes = forms.MultipleChoiceField(label=gettext_lazy("Scopes"), choices=ApiScope.choices,
                                       widget=forms.CheckboxSelectMultiple, initial=[ApiScope.READ])
    rate_limit_per_minute = forms.IntegerField(label=gettext_lazy("Requests per minute"), required=False,
                                               min_value=1, max_value=100_000,
                                               help_text=gettext_lazy("Empty: the server default."))


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https")
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Events"), choices=[(t, t) for t in EVENT_TYPES], required=False,
        widget=forms.CheckboxSelectMultiple, help_text=gettext_lazy("None ticked: every event."))


def _admin_only(request: HttpRequest) -> None:
    if not role_at_least(request, Role.ADMIN):
        raise PermissionDenied(_("Only admins manage integrations."))


def _page(request: HttpRequest, *, key_form=None, endpoint_form=None, new_token: str = "",
          new_secret: str = "", status: int = 200) -> HttpResponse:
    organization = request.organization
    return render(request, "tenancy/integrations/index.html", {
        "keys": ApiKey.objects.filter(organization=organization).select_related("created_by"),
        "endpoints": WebhookEndpoint.objects.filter(organization=organization),
        "key_form": key_form or ApiKeyForm(),
        "endpoint_form": endpoint_form or WebhookEndpointForm(),
        "new_token": new_token,
        "new_secret": new_secret,
    }, status=status)


@organization_required
def integrations_index(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    return _page(request)


@organization_required
@require_POST
def api_key_create_view(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            created = api_key_create(organization=request.organization, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            return _page(request, new_token=created.token)
    return _page(request, key_form=form, status=400)


@organization_required
@require_POST
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    key = get_object_or_404(ApiKey, organization=request.organization, pk=pk)
    api_key_revoke(organization=request.organization, actor=request.user, key=key)
    messages.success(request, _("API key %(prefix)s revoked.") % {"prefix": key.prefix})
    return redirect("integrations:index")


@organization_required
@require_POST
def webhook_endpoint_create_view(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint = webhook_endpoint_create(organization=request.organization, actor=request.user,
                                               **form.cleaned_data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            return _page(request, new_secret=endpoint.secret)
    return _page(request, endpoint_form=form, status=400)


@organization_required
@require_POST
def webhook_endpoint_toggle_view(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    endpoint = get_object_or_404(WebhookEndpoint, organization=request.organization, pk=pk)
    webhook_endpoint_set_active(organization=request.organization, actor=request.user, endpoint=endpoint,
                                active=not endpoint.is_active)
    return redirect("integrations:index")


@organization_required
def webhook_endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    endpoint = get_object_or_404(WebhookEndpoint, organization=request.organization, pk=pk)
    deliveries = (WebhookDelivery.objects.filter(organization=request.organization, endpoint=endpoint)
                  .select_related("event").order_by("-created_at", "-pk")[:DELIVERY_LOG_SIZE])
    return render(request, "tenancy/integrations/endpoint_detail.html",
                  {"endpoint": endpoint, "deliveries": deliveries})


@organization_required
@require_POST
def webhook_redeliver_view(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    delivery = get_object_or_404(WebhookDelivery, organization=request.organization, pk=pk)
    webhook_redeliver(organization=request.organization, actor=request.user, delivery=delivery)
    messages.success(request, _("Event %(event)s queued for redelivery.") % {"event": delivery.event.event_id})
    return redirect("integrations:endpoint", pk=delivery.endpoint_id)
