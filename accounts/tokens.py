"""Issuing, rotating and revoking JWT pairs, and carrying them in cookies.

simplejwt does the signing and the blacklist; this module adds our rules: every pair belongs to
a login session (the ``sid`` claim, ``accounts.sessions``) that can be ended at once; a refresh
token is good once (rotated and blacklisted on use), and sending a used one again ends its whole
session (OAuth 2.0 Security BCP: refresh token rotation); both tokens travel in HttpOnly cookies.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from . import sessions
from .models import AuthSession

# A refresh token rotated this recently was most likely rotated by a parallel request of the
# same browser (another tab): its response carries the new cookies, which must not be cleared,
# and the session is not ended for it. A used token sent later is a replay: the session ends.
ROTATION_RACE_SECONDS = 30


def _user_id_claim() -> str:
    return settings.SIMPLE_JWT.get("USER_ID_CLAIM", "user_id")


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
    session_id: object = None

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


def issue_pair(user, session: AuthSession | None = None, *, user_agent: str = "") -> TokenPair:
    """A new pair in ``session``, or in a new session (a login)."""
    session = session or sessions.open_session(user, user_agent=user_agent)
    refresh = RefreshToken()
    refresh[_user_id_claim()] = str(user.pk)
    refresh[sessions.SID_CLAIM] = session.pk.hex
    OutstandingToken.objects.create(
        user=user,
        jti=refresh["jti"],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    access = refresh.access_token  # copies user_id and sid
    return TokenPair(user, str(access), str(refresh), _expiry(access), _expiry(refresh), session.pk)


# ----------------------------------------------------------------------------- access tokens
@dataclass(frozen=True)
class Identity:
    user: object
    session_id: object


def identify(token) -> Identity | None:
    """The user of a validated access token whose session is open and whose account is active."""
    session_id = token.get(sessions.SID_CLAIM)
    user = sessions.active_user(session_id, token.get(_user_id_claim()))
    return Identity(user, sessions.parse_id(session_id)) if user is not None else None


def identify_raw(raw: str) -> Identity | None:
    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    return identify(token)


def session_of(raw: str):
    """The session id a token of ours names (access or refresh; expired or used still count:
    the signature proves we issued it), or None."""
    try:
        payload = jwt.decode(
            raw,
            settings.SIMPLE_JWT["SIGNING_KEY"],
            algorithms=[settings.SIMPLE_JWT["ALGORITHM"]],
            options={"verify_exp": False, "verify_aud": False},
        )
    except jwt.InvalidTokenError:
        return None
    return sessions.parse_id(payload.get(sessions.SID_CLAIM))


# ----------------------------------------------------------------------------- refresh tokens
def _signed_refresh_payload(raw: str) -> dict | None:
    try:
        payload = token_backend.decode(raw, verify=True)
    except TokenBackendError:
        return None
    if payload.get("token_type") != RefreshToken.token_type or not payload.get("jti"):
        return None
    return payload


def _load_refresh(raw: str) -> RefreshToken:
    if not raw:
        raise InvalidRefreshToken("No refresh token was sent.")
    try:
        return RefreshToken(raw)  # verifies signature, expiry and the blacklist
    except TokenError as exc:
        payload = _signed_refresh_payload(raw)
        used = payload and BlacklistedToken.objects.filter(token__jti=payload["jti"]).first()
        if not used:
            raise InvalidRefreshToken(str(exc)) from None
        if used.blacklisted_at >= timezone.now() - timedelta(seconds=ROTATION_RACE_SECONDS):
            raise InvalidRefreshToken(str(exc), just_rotated=True) from None
        # A used refresh token again: one of its two holders is not its owner. End the family,
        # so that the newer token of the chain (perhaps the thief's) dies with it.
        sessions.end_one(payload.get(sessions.SID_CLAIM), AuthSession.EndReason.REFRESH_REUSE)
        raise InvalidRefreshToken("This refresh token was already used: its session has been ended.") from None


def rotate(raw_refresh: str) -> TokenPair:
    """Trade a refresh token for a new pair of the same session. The old one is blacklisted: a second use fails."""
    old = _load_refresh(raw_refresh)
    user_id = sessions.parse_user_id(old.payload.get(_user_id_claim()))
    if user_id is None:
        raise InvalidRefreshToken("Token contained no recognizable user identification")
    session_id = sessions.parse_id(old.get(sessions.SID_CLAIM))
    if session_id is None:
        raise InvalidRefreshToken("This token belongs to no session: please log in again.")
    with transaction.atomic():
        session = AuthSession.objects.select_related("user").filter(pk=session_id, user_id=user_id).first()
        if session is None or not session.user.is_active:
            raise InvalidRefreshToken("The account no longer exists or is disabled.")
        if session.ended_at is not None:
            raise InvalidRefreshToken("This session has ended: please log in again.")
        user = session.user
        # Blacklisting is the atomic claim: the first caller wins, a concurrent replay loses.
        outstanding = OutstandingToken.objects.filter(jti=old["jti"]).first()
        if outstanding is None:
            raise InvalidRefreshToken("Token is unknown.")
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
        if not created:
            raise InvalidRefreshToken("Token is blacklisted", just_rotated=True)
        AuthSession.objects.filter(pk=session.pk).update(refreshed_at=timezone.now())
        return issue_pair(user, session)


def revoke(raw_refresh: str) -> None:
    """Log out one device: end the token's session and blacklist it; an invalid token is ignored."""
    session_id = session_of(raw_refresh)
    if session_id is not None:
        sessions.end_one(session_id, AuthSession.EndReason.LOGOUT)
    try:
        RefreshToken(raw_refresh).blacklist()
    except TokenError:
        pass


def revoke_all(user, reason: str = AuthSession.EndReason.LOGOUT_ALL, *, keep_session=None) -> int:
    """Log out everywhere (but ``keep_session``): end the sessions and blacklist their refresh tokens."""
    sessions.end_all(user, reason, keep=keep_session)
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=datetime.now(UTC), blacklistedtoken__isnull=True)
    count = 0
    for token in outstanding:
        if keep_session is not None and _sid_of_issued(token.token) == keep_session:
            continue
        _, created = BlacklistedToken.objects.get_or_create(token=token)
        count += created
    return count


def _sid_of_issued(text: str):
    """The sid of a token we stored when issuing it (so its signature need not be checked again)."""
    try:
        return sessions.parse_id(token_backend.decode(text, verify=False).get(sessions.SID_CLAIM))
    except TokenBackendError:
        return None


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
