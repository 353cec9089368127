"""Content-Security-Policy on every response: scripts only from our own static files (or an inline
script carrying this response's nonce), no plugins, no framing by other sites, forms posting only
to us. A script injected through a stored-XSS bug would not run. Pages use `request.csp_nonce`
for the rare inline script (`<script nonce="{{ request.csp_nonce }}">`)."""

from __future__ import annotations

import secrets

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(18)
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace("{nonce}", request.csp_nonce)
        return response
