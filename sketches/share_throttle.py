"""A brake on share-link lookups per client IP, so tokens cannot be found by trying many."""

from rest_framework.throttling import SimpleRateThrottle


class ShareLookupThrottle(SimpleRateThrottle):
    scope = "share_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


SHARE_THROTTLES = [ShareLookupThrottle]
