"""Authentication for /api/: `Authorization: Bearer <API key>`, or the browser session.

Either way the request ends with `request.organization` set: the key's organization, or the
session user's current one (tenancy.middleware). Nothing else decides which rows a request sees."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from tenancy.models import ApiKey

from .keys import api_key_for_token, api_key_touch


class ApiKeyPrincipal:
    """request.user for an API-key request: authenticated, but not a person. Services get
    actor=None (the trusted system); the key's scopes are checked by ScopePermission, and the
    audit log names the key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None
    id = None

    def __init__(self, key: ApiKey):
        self.key = key

    def get_username(self) -> str:
        return f"api-key:{self.key.prefix}"

    def __str__(self) -> str:
        return self.get_username()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _sep, token = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        token = token.strip()
        if not token or " " in token:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header: use 'Bearer <API key>'."))
        key = api_key_for_token(token)
        if key is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        api_key_touch(key)
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when credentials are missing or bad.
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the schema documents API keys (drf-spectacular finds it by target_class)."""

    target_class = "tenancy.api.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "Inflow API key (ifk_...)",
                "description": "Create a key under Settings → Integrations; send `Authorization: Bearer <key>`."}
