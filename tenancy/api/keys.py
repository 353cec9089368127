"""API keys: creation (the token is returned once), revocation, and token lookup.

A token reads `ifk_<8 prefix chars>_<43 secret chars>`; the database keeps its sha256 and the
visible prefix `ifk_<8 chars>`. 256 bits of randomness make a plain sha256 safe: there is
nothing to brute-force, so no slow password hash is needed on every request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.errors import DomainError, ErrorCode
from tenancy.models import ApiKey, ApiScope, Organization, Role
from tenancy.services import Actor, audit_record, role_require

TOKEN_PREFIX = "ifk_"  # noqa: S105 - a public marker, not a secret
PREFIX_CHARS = 8
# last_used_at is written at most this often per key, so busy keys do not write on every request.
LAST_USED_RESOLUTION_SECONDS = 60


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_new() -> tuple[str, str]:
    prefix = TOKEN_PREFIX + secrets.token_hex(PREFIX_CHARS // 2)
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class CreatedApiKey:
    key: ApiKey
    token: str  # shown once; never stored


@transaction.atomic
def api_key_create(*, organization: Organization, actor: Actor, name: str, scopes: list[str],
                   rate_limit_per_minute: int | None = None) -> CreatedApiKey:
    """Create an API key (admins only); the returned token is the only time it is visible."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    name = name.strip()
    if not name:
        raise DomainError(_("An API key needs a name."), field="name")
    scopes = sorted(set(scopes))
    if not scopes or not set(scopes) <= set(ApiScope.values):
        raise DomainError(_("Choose the read scope, the write scope or both."), field="scopes")
    if ApiScope.WRITE in scopes and ApiScope.READ not in scopes:
        scopes = sorted([*scopes, ApiScope.READ])  # writing implies reading what you wrote
    prefix, token = _token_new()
    key = ApiKey(organization=organization, name=name, prefix=prefix, secret_hash=token_hash(token), scopes=scopes,
                 rate_limit_per_minute=rate_limit_per_minute, created_by=actor)
    key.full_clean()
    key.save()
    audit_record(organization=organization, actor=actor, action="api_key.created", obj=key,
                 after={"name": name, "prefix": prefix, "scopes": scopes})
    return CreatedApiKey(key, token)


@transaction.atomic
def api_key_revoke(*, organization: Organization, actor: Actor, key: ApiKey) -> ApiKey:
    """Revoke an API key at once (admins only); requests with it get 401 from then on."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    if key.organization_id != organization.pk:
        raise DomainError(_("Not found."), code=ErrorCode.NOT_FOUND)
    key = ApiKey.objects.select_for_update(no_key=True).get(pk=key.pk)
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(organization=organization, actor=actor, action="api_key.revoked", obj=key,
                 after={"prefix": key.prefix})
    return key


def api_key_for_token(token: str) -> ApiKey | None:
    """The active key a token belongs to, or None. Constant-time comparison of the hash."""
    prefix = token[: len(TOKEN_PREFIX) + PREFIX_CHARS]
    if not prefix.startswith(TOKEN_PREFIX) or token[len(prefix):len(prefix) + 1] != "_":
        return None
    key = ApiKey.objects.select_related("organization").filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.secret_hash, token_hash(token)):
        return None
    return key


def api_key_touch(key: ApiKey) -> None:
    """Record that the key was used (at most once a minute per key)."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() >= LAST_USED_RESOLUTION_SECONDS:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
