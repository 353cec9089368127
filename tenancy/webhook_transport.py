"""Where a webhook may go, and the one POST of a delivery attempt.

A webhook URL is typed by an organization's admin, and the server then POSTs to it: without
care that is a way into the internal network (server-side request forgery: a cloud metadata
service at 169.254.169.254, an admin port on localhost). So the host is resolved and every
address it resolves to must be public; the connection then goes to one of exactly those
addresses (a name that resolves again, differently, between check and connect cannot slip
through), and a redirect is never followed (a 3xx is a failed attempt). No proxy from the
environment is used. WEBHOOK_ALLOW_PRIVATE_URLS lifts the address rule for development and
tests; nothing lifts the redirect rule."""

from __future__ import annotations

import http.client
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

# NAT64 (RFC 6052): 64:ff9b::a9fe:a9fe reaches 169.254.169.254 where NAT64 is deployed.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """The URL's host is, or resolves to, an address webhooks may not be sent to."""


def address_refused(address: str) -> bool:
    """True for private, loopback, link-local, reserved, multicast, unspecified or otherwise
    non-global addresses, including IPv4 ones wrapped in IPv6 (mapped, 6to4, Teredo, NAT64)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") is not part of it
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and address_refused(str(embedded)):
            return True
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified or not ip.is_global)


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def url_addresses(url: str) -> list[str]:
    """The addresses `url`'s host resolves to, all allowed; AddressRefused if any is not, OSError
    (socket.gaierror) if the name does not resolve."""
    host, port = _host_port(url)
    addresses = list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        refused = [address for address in addresses if address_refused(address)]
        if refused:
            raise AddressRefused(f"{host} resolves to {', '.join(refused)}: not a public address")
    return addresses


class _PinnedMixin:
    """An http.client connection that connects only to addresses already checked, while the
    Host header and TLS (SNI, certificate name) still use the URL's host name."""

    def __init__(self, *args, addresses: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self._addresses = addresses
        self._create_connection = self._connect_checked  # what connect() calls to open the socket

    def _connect_checked(self, address, timeout, source_address=None):
        _host, port = address
        error: OSError | None = None
        for checked in self._addresses:
            try:
                return socket.create_connection((checked, port), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(_PinnedMixin, http.client.HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedMixin, http.client.HTTPSConnection):
    pass


def webhook_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST once: (status code or None, error text, empty on a 2xx). Redirects are not followed."""
    try:
        addresses = url_addresses(url)
    except AddressRefused as exc:
        return None, str(exc)[:500]
    except OSError as exc:
        return None, f"cannot resolve {_host_port(url)[0]}: {exc}"[:500]
    parts = urlsplit(url)
    host, port = _host_port(url)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, timeout=settings.WEBHOOK_TIMEOUT_SECONDS, addresses=addresses)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return None, str(exc)[:500]
    finally:
        connection.close()
    return status, "" if 200 <= status < 300 else f"HTTP {status}"
