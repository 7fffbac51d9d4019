"""Issuing, rotating and revoking JWT pairs, and carrying them in cookies.

simplejwt does the signing and the blacklist; this module adds our rules: a refresh token is
good once (rotated and blacklisted on use), and both tokens travel in HttpOnly cookies.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

# A refresh token rotated this recently was most likely rotated by a parallel request of the
# same browser (another tab): its response carries the new cookies, which must not be cleared.
ROTATION_RACE_SECONDS = 30


class InvalidRefreshToken(Exception):
    """The refresh token is missing, expired, tampered with, or was already used.

    ``just_rotated``: it was good but another request rotated it moments ago. It is still
    refused (a refresh token is good once), but the caller must not clear the cookies.
    """

    def __init__(self, message: str = "", *, just_rotated: bool = False):
        super().__init__(message)
        self.just_rotated = just_rotated


@dataclass(frozen=True)
class TokenPair:
    user: object
    access: str
    refresh: str
    access_expires_at: datetime
    refresh_expires_at: datetime

    @property
    def access_expires_in(self) -> int:
        return max(0, int((self.access_expires_at - datetime.now(UTC)).total_seconds()))

    def body(self) -> dict:
        """What non-browser clients get in the response body (the refresh token stays in its cookie)."""
        return {
            "access_token": self.access,
            "token_type": "bearer",
            "expires_in": self.access_expires_in,
            "expires_at": self.access_expires_at.isoformat(),
        }


def _expiry(token) -> datetime:
    return datetime.fromtimestamp(token["exp"], tz=UTC)


def issue_pair(user) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    access = refresh.access_token
    return TokenPair(user, str(access), str(refresh), _expiry(access), _expiry(refresh))


def _load_refresh(raw: str) -> RefreshToken:
    if not raw:
        raise InvalidRefreshToken("No refresh token was sent.")
    try:
        return RefreshToken(raw)  # verifies signature, expiry and the blacklist
    except TokenError as exc:
        raise InvalidRefreshToken(str(exc), just_rotated=_rotated_moments_ago(raw)) from None


def _rotated_moments_ago(raw: str) -> bool:
    """A well-signed, unexpired refresh token that was blacklisted within ROTATION_RACE_SECONDS."""
    try:
        payload = token_backend.decode(raw, verify=True)
    except TokenBackendError:
        return False
    if payload.get("token_type") != RefreshToken.token_type or not payload.get("jti"):
        return False
    since = datetime.now(UTC) - timedelta(seconds=ROTATION_RACE_SECONDS)
    return BlacklistedToken.objects.filter(token__jti=payload["jti"], blacklisted_at__gte=since).exists()


def rotate(raw_refresh: str) -> TokenPair:
    """Trade a refresh token for a new pair. The old one is blacklisted: a second use fails."""
    old = _load_refresh(raw_refresh)
    user_id = old.payload.get(settings.SIMPLE_JWT.get("USER_ID_CLAIM", "user_id"))
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise InvalidRefreshToken("The account no longer exists or is disabled.")
    # Blacklisting is the atomic claim: the first caller wins, a concurrent replay loses.
    outstanding = OutstandingToken.objects.filter(jti=old["jti"]).first()
    if outstanding is None:
        raise InvalidRefreshToken("Token is unknown.")
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise InvalidRefreshToken("Token is blacklisted", just_rotated=True)
    return issue_pair(user)


def revoke(raw_refresh: str) -> None:
    """Blacklist one refresh token; an already invalid one is simply ignored."""
    try:
        RefreshToken(raw_refresh).blacklist()
    except TokenError:
        pass


def revoke_all(user) -> int:
    """Log out everywhere: blacklist every refresh token the user still holds."""
    tokens = OutstandingToken.objects.filter(user=user, expires_at__gt=datetime.now(UTC)).exclude(blacklistedtoken__isnull=False)
    count = 0
    for outstanding in tokens:
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
        count += created
    return count


# ----------------------------------------------------------------------------- cookies
def set_auth_cookies(response, pair: TokenPair) -> None:
    common = {"httponly": True, "secure": settings.JWT_COOKIE_SECURE, "samesite": settings.JWT_COOKIE_SAMESITE}
    response.set_cookie(settings.JWT_ACCESS_COOKIE, pair.access, expires=pair.access_expires_at, path="/", **common)
    response.set_cookie(
        settings.JWT_REFRESH_COOKIE,
        pair.refresh,
        expires=pair.refresh_expires_at,
        path=settings.JWT_REFRESH_COOKIE_PATH,
        **common,
    )


def clear_auth_cookies(response) -> None:
    samesite = settings.JWT_COOKIE_SAMESITE
    response.delete_cookie(settings.JWT_ACCESS_COOKIE, path="/", samesite=samesite)
    response.delete_cookie(settings.JWT_REFRESH_COOKIE, path=settings.JWT_REFRESH_COOKIE_PATH, samesite=samesite)
