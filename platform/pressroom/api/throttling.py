from rest_framework.throttling import SimpleRateThrottle

from pressroom.conf import pressroom_settings


class PerCredentialThrottle(SimpleRateThrottle):
    """Requests per API key (or per user), shared by all web processes through the cache."""

    scope = "credential"

    def get_rate(self) -> str:
        return pressroom_settings.API_THROTTLE_RATE

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        access = getattr(request, "access", None)
        return self.cache_format % {"scope": self.scope, "ident": access.throttle_key} if access else None
