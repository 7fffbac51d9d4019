"""Brute-force brakes for login and registration.

Login: per client IP, and per (client IP, email) pair. Not per email alone: a counter for the
account would let anyone lock its owner out by failing on purpose from elsewhere.
Registration: per client IP and per email (it tells whether an email has an account; see
``accounts.services.register``).
"""

import hashlib

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


class _EmailThrottle(SimpleRateThrottle):
    def get_cache_key(self, request, view):
        email = _email_of(request)
        if not email:
            return None
        # Hashed: an email is any text (spaces, NUL), and cache keys must stay plain.
        ident = hashlib.sha256(f"{self.source(request)}|{email}".encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def source(self, request) -> str:
        return ""


class LoginIPEmailThrottle(_EmailThrottle):
    """Guesses at one account from one client."""

    scope = "login_ip_email"

    def source(self, request) -> str:
        return self.get_ident(request)


class RegisterEmailThrottle(_EmailThrottle):
    scope = "register_email"


LOGIN_THROTTLES = [LoginIPThrottle, LoginIPEmailThrottle]
REGISTER_THROTTLES = [RegisterIPThrottle, RegisterEmailThrottle]


def throttle_wait(request, throttle_classes) -> float | None:
    """For the pages (plain Django views): seconds to wait, or None when allowed."""
    waits = []
    for cls in throttle_classes:
        throttle = cls()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait() or 1)
    return max(waits) if waits else None
