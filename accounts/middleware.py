"""Pages and the admin see the same login as the API: the JWT access cookie.

A page request whose access token has expired is refreshed here with the refresh cookie, so a
user with a valid refresh token never meets the login page.
"""

from django.conf import settings

from . import tokens


def user_from_access_token(raw: str):
    """The user of an access token whose session is open, or None."""
    identity = tokens.identify_raw(raw)
    return identity.user if identity is not None else None


class JWTCookieMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        identity = None
        raw_access = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
        if raw_access:
            identity = tokens.identify_raw(raw_access)
        user = identity.user if identity is not None else None
        # The pages' own actions (logout, password change) need to know which login they act for.
        request.auth_session_id = identity.session_id if identity is not None else None
        new_pair, stale = None, False
        raw_refresh = request.COOKIES.get(settings.JWT_REFRESH_COOKIE)
        if user is None and raw_refresh and self._may_refresh(request):
            try:
                new_pair = tokens.rotate(raw_refresh)
                user, request.auth_session_id = new_pair.user, new_pair.session_id
            except tokens.InvalidRefreshToken as error:
                stale = not error.just_rotated  # a parallel navigation is setting the new cookies
        if user is not None:
            request.user = user
        response = self.get_response(request)
        if new_pair is not None:
            tokens.set_auth_cookies(response, new_pair)
        elif stale:
            tokens.clear_auth_cookies(response)
        return response

    @staticmethod
    def _may_refresh(request) -> bool:
        # Only page navigations: API clients refresh explicitly, and rotating on parallel
        # API calls would race (the loser would find its token already blacklisted).
        # /files/ are signed downloads (no login needed), fetched in parallel by <img> tags.
        return request.method in ("GET", "HEAD") and not request.path.startswith(
            ("/api/", "/static/", "/media/", "/files/", "/health")
        )
