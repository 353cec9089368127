"""Sign-in protection: django-axes counts failed sign-ins per username and per client address
and refuses further attempts (even with the right password) for AXES_COOLOFF_TIME after
AXES_FAILURE_LIMIT failures. Axes keeps every attempt and lockout (AccessAttempt, AccessLog,
AccessFailureLog); a lockout is also written to the audit chain of each organization the account
belongs to, so its admins see it."""

from __future__ import annotations

import logging

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .net import client_ip

logger = logging.getLogger(__name__)


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check on every sign-in made by a request (the login page, the admin's). Calls without a
    request (management commands, tests' `client.login`) are not a web sign-in: nothing to count."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def axes_client_ip(request: HttpRequest) -> str:
    return client_ip(request)


def cooloff_minutes() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def lockout_message() -> str:
    minutes = cooloff_minutes()
    return ngettext(
        "Too many failed sign-in attempts for this account or from this address. Try again in %(minutes)d minute, "
        "or ask an administrator to unlock the account.",
        "Too many failed sign-in attempts for this account or from this address. Try again in %(minutes)d minutes, "
        "or ask an administrator to unlock the account.", minutes) % {"minutes": minutes}


def login_locked_out(request: HttpRequest, credentials: dict | None = None, *args, **kwargs) -> HttpResponse:
    """The sign-in page with the lockout explained (HTTP 429), instead of axes' bare text."""
    from django.contrib.auth.forms import AuthenticationForm

    form = AuthenticationForm(request, data=None, initial={"username": (credentials or {}).get("username", "")})
    return render(request, "registration/login.html",
                  {"form": form, "locked_out": lockout_message(), "next": request.POST.get("next", "")}, status=429)


def login_lockout_audit(sender, request: HttpRequest, username: str | None, ip_address: str, **kwargs) -> None:
    """Record the lockout in the audit chain of each organization the account belongs to."""
    from .models import AuditEntry, Membership
    from .services import audit_record

    logger.warning("Sign-in locked out: username %r from %s", username, ip_address)
    user = get_user_model().objects.filter(username=username).first() if username else None
    if user is None:
        return
    # Axes signals again at each attempt during the lockout: one entry per lockout is enough.
    recent = AuditEntry.objects.filter(action="user.login_locked_out", object_id=str(user.pk),
                                       created_at__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    if recent.exists():
        return
    with transaction.atomic():
        for membership in Membership.objects.filter(user=user).select_related("organization").order_by("organization_id"):
            audit_record(organization=membership.organization, actor=None, action="user.login_locked_out", obj=user,
                         after={"username": user.get_username(), "ip_address": ip_address,
                                "failure_limit": settings.AXES_FAILURE_LIMIT},
                         actor_label=_("sign-in protection"))
