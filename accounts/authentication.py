"""DRF authentication: ``Authorization: Bearer`` first, else the HttpOnly access cookie.

simplejwt only reads headers. A cookie is sent by the browser on its own, so a request
authenticated by it must also pass Django's CSRF check on unsafe methods.
"""

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from . import tokens


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


class JWTCookieAuthentication(JWTAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request):
        header = self.get_header(request)
        if header is not None:
            raw = self.get_raw_token(header)
            if raw is None:
                raise exceptions.AuthenticationFailed(
                    "The Authorization header must be 'Bearer <token>'.", code="bad_authorization_header"
                )
            validated = self.get_validated_token(raw)
            return self.get_user(validated), validated
        raw = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
        if not raw:
            return None
        validated = self.get_validated_token(raw.encode())
        user = self.get_user(validated)
        self.enforce_csrf(request)
        return user, validated

    def get_user(self, validated_token):
        """The user, if the token's session is still open (one query, in place of simplejwt's user lookup)."""
        identity = tokens.identify(validated_token)
        if identity is None:
            raise InvalidToken("This session has ended or the account is disabled: please log in again.")
        return identity.user

    def enforce_csrf(self, request):
        def dummy_get_response(request):  # pragma: no cover - never called
            return None

        check = _CSRFCheck(dummy_get_response)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(
                f"CSRF check failed ({reason}): send the csrftoken cookie's value in the X-CSRFToken header.",
                code="csrf_failed",
            )
