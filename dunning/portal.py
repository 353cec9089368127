"""The customer portal's link: signed, expiring, naming one customer of one organization.

No login: whoever holds the link sees that customer's open invoices and statement, and can
dispute an invoice or promise a date. The signature (SECRET_KEY, a salt of its own) makes the
link unforgeable; its timestamp makes it expire after DUNNING_PORTAL_LINK_DAYS."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from receivables.models import Customer
from tenancy.models import Organization

SALT = "inflow.dunning.portal"


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
        data = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=link_max_age())
    except signing.SignatureExpired:
        raise PortalLinkError("expired", expired=True) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise PortalLinkError("invalid") from None
    customer = (Customer.objects.select_related("organization")
                .filter(pk=data.get("c"), organization_id=data.get("o")).first())
    if customer is None:
        raise PortalLinkError("invalid")
    return customer


def portal_rate_limited(key: str) -> bool:
    """True once `key` (client address) made more than DUNNING_PORTAL_RATE requests this minute."""
    limit = settings.DUNNING_PORTAL_RATE_PER_MINUTE
    cache_key = f"dunning:portal:rate:{key}"
    cache.add(cache_key, 0, timeout=60)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=60)
        count = 1
    return count > limit
