"""The address of the client behind the reverse proxies this deployment trusts.

`REMOTE_ADDR` is the proxy's address when the app runs behind one (every client would share one
rate limit and one lockout); `X-Forwarded-For` is whatever the client wrote, except for the
entries the trusted proxies appended. With TRUSTED_PROXY_COUNT = N, each of the N proxies appends
the address it received the request from, so the client is the N-th entry from the right; entries
further left are the client's own claims and are ignored."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "0.0.0.0"  # noqa: S104 - a placeholder key, never bound


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address: from X-Forwarded-For as far as trusted proxies vouch for it, else REMOTE_ADDR."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            address = _valid(forwarded[-count])
            if address:
                return address
    return _valid(request.META.get("REMOTE_ADDR", "")) or UNKNOWN
