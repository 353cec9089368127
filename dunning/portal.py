"""The customer portal's link: signed, expiring, naming one customer of one organization.

No login: whoever holds the link sees that customer's open invoices and statement, and can
dispute an invoice or promise a date. The signature (SECRET_KEY, a salt of its own) makes the
link unforgeable; its timestamp makes it expire after DUNNING_PORTAL_LINK_DAYS."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from receivables.models import Customer
from tenancy.models import Organization

SALT = "inflow.dunning.portal"
# A link signed later than now by more than this (clocks of web servers differ a little) is refused.
FUTURE_SKEW_SECONDS = 300


class PortalSigner(signing.TimestampSigner):
    """Django's timestamp signer, also refusing a timestamp in the future (its age check only
    refuses old ones): a link dated ahead would outlive DUNNING_PORTAL_LINK_DAYS."""

    def unsign(self, value, max_age=None):
        result = super().unsign(value, max_age=max_age)
        timestamp = signing.b62_decode(signing.Signer.unsign(self, value).rsplit(self.sep, 1)[1])
        if timestamp > time.time() + FUTURE_SKEW_SECONDS:
            raise signing.BadSignature("Timestamp in the future")
        return result


class PortalLinkError(Exception):
    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def link_max_age() -> int:
    return settings.DUNNING_PORTAL_LINK_DAYS * 86400


def portal_token(organization: Organization, customer: Customer) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"o": organization.pk, "c": customer.pk})


def portal_customer(token: str) -> Customer:
    """The customer a link names, or PortalLinkError when it is expired, tampered or unknown."""
    try:
        data = PortalSigner(salt=SALT).unsign_object(token, max_age=link_max_age())
    except signing.SignatureExpired:
        raise PortalLinkError("expired", expired=True) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise PortalLinkError("invalid") from None
    customer = (Customer.objects.select_related("organization")
                .filter(pk=data.get("c"), organization_id=data.get("o")).first())
    if customer is None:
        raise PortalLinkError("invalid")
    return customer


def portal_rate_limited(key: str, *, limit: int | None = None) -> bool:
    """True once `key` made more than `limit` (DUNNING_PORTAL_RATE_PER_MINUTE) requests this minute."""
    limit = settings.DUNNING_PORTAL_RATE_PER_MINUTE if limit is None else limit
    cache_key = f"dunning:portal:rate:{key}"
    cache.add(cache_key, 0, timeout=60)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=60)
        count = 1
    return count > limit


def portal_link_rate_limited(token: str) -> bool:
    """A valid link's own budget: one customer's link, wherever its requests come from (so clients
    behind one proxy, or someone else's bad links, never use it up)."""
    return portal_rate_limited("link:" + hashlib.sha256(token.encode()).hexdigest()[:32])


def portal_invalid_rate_limited(client: str) -> bool:
    """Invalid or expired links, counted per client address (DUNNING_PORTAL_INVALID_PER_MINUTE):
    guessing links is slowed down without touching valid links' budgets."""
    return portal_rate_limited("invalid:" + client, limit=settings.DUNNING_PORTAL_INVALID_PER_MINUTE)
