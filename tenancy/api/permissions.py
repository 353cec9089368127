"""Who may call what: a resolved organization always, and the write scope for writes by API key.

Roles are checked again by every service (a session viewer cannot write through the API
either); these classes only make sure no request runs without an organization."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions

from tenancy.models import ApiKey, ApiScope

from .errors import InsufficientScope


def request_api_key(request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


class HasOrganization(permissions.BasePermission):
    """Authenticated, and the request resolved to an organization (else 404: as if nothing existed)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        if getattr(view, "organization", None) is None:
            raise exceptions.NotFound(_("You are not a member of any organization."))
        return True


class ScopePermission(permissions.BasePermission):
    """API keys: `read` for safe methods, `write` for everything else."""

    def has_permission(self, request, view) -> bool:
        key = request_api_key(request)
        if key is None:
            return True
        needed = ApiScope.READ if request.method in permissions.SAFE_METHODS else ApiScope.WRITE
        if not key.has_scope(needed):
            raise InsufficientScope(_("This API key lacks the %(scope)s scope.") % {"scope": needed})
        return True
