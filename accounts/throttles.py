"""Brute-force brakes for login and registration: per client IP and per target email."""

from rest_framework.throttling import SimpleRateThrottle

from .models import normalise_email


def _email_of(request) -> str:
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    value = data.get("email") if hasattr(data, "get") else None
    return normalise_email(value) if isinstance(value, str) else ""


class _IPThrottle(SimpleRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginIPThrottle(_IPThrottle):
    scope = "login_ip"


class RegisterIPThrottle(_IPThrottle):
    scope = "register_ip"


class LoginEmailThrottle(SimpleRateThrottle):
    scope = "login_email"

    def get_cache_key(self, request, view):
        email = _email_of(request)
        return self.cache_format % {"scope": self.scope, "ident": email} if email else None


LOGIN_THROTTLES = [LoginIPThrottle, LoginEmailThrottle]
REGISTER_THROTTLES = [RegisterIPThrottle]


def throttle_wait(request, throttle_classes) -> float | None:
    """For the pages (plain Django views): seconds to wait, or None when allowed."""
    waits = []
    for cls in throttle_classes:
        throttle = cls()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait() or 1)
    return max(waits) if waits else None
