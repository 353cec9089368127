"""Rate limits per API key (API_KEY_THROTTLE_RATE, or the key's own requests per minute) and
per session user. Over the limit: 429 with Retry-After, counted in the shared cache (Redis)."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from .permissions import request_api_key


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def allow_request(self, request, view) -> bool:
        key = request_api_key(request)
        if key is not None:
            self.scope, self.ident = "api_key", f"key{key.pk}"
            self.rate = f"{key.rate_limit_per_minute}/min" if key.rate_limit_per_minute else self.THROTTLE_RATES["api_key"]
        elif request.user is not None and request.user.is_authenticated:
            self.scope, self.ident = "api_session", f"user{request.user.pk}"
            self.rate = self.THROTTLE_RATES["api_session"]
        else:
            return True  # unauthenticated requests are refused before doing any work
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}
