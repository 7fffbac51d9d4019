"""The auth API: register, login, refresh, logout, me."""

from django.conf import settings
from django.contrib.auth import logout as django_logout
from django.middleware.csrf import get_token, rotate_token
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services, sessions, tokens
from ..authentication import JWTCookieAuthentication
from ..models import AuthSession
from ..throttles import LOGIN_THROTTLES, REGISTER_THROTTLES
from ..ws_auth import origin_allowed
from .serializers import (
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenResponseSerializer,
    UserSerializer,
)


def _token_response(request, pair: tokens.TokenPair, status_code: int, *, new_login: bool = False) -> Response:
    if new_login:
        # A csrftoken planted before the login (a sibling subdomain can set cookies) must not work after it.
        rotate_token(request._request)
    else:
        get_token(request._request)  # cookie-authenticated clients need it for their next unsafe request
    response = Response({"user": UserSerializer(pair.user).data, **pair.body()}, status=status_code)
    tokens.set_auth_cookies(response, pair)
    return response


class PublicAuthView(APIView):
    """Anyone may call these; a stale cookie must not turn them into a 401 or a CSRF failure."""

    permission_classes = [AllowAny]
    # No authenticators rather than a skipped authentication: the browsable API's renderer reads
    # request.user after the view has run, where an expired cookie would raise outside the handler.
    authentication_classes = []

    def get_authenticate_header(self, request):
        # Wrong credentials stay a 401 (DRF answers 403 when no authenticator names a scheme).
        return JWTCookieAuthentication().authenticate_header(request)

    def check_permissions(self, request):
        # No credentials means no CSRF check, so refuse what a browser sends from another site:
        # a cross-site form posted here would log the victim into the attacker's account (login
        # CSRF; top-level navigations may set SameSite=Lax cookies). Non-browser clients send no Origin.
        origin = request.META.get("HTTP_ORIGIN")
        if origin is not None and not origin_allowed(origin, f"{request.scheme}://{request.get_host()}"):
            raise exceptions.PermissionDenied(
                "Requests from another site are refused (Origin not allowed).", code="origin_not_allowed"
            )
        super().check_permissions(request)


class RegisterView(PublicAuthView):
    throttle_classes = REGISTER_THROTTLES

    @extend_schema(
        request=RegisterSerializer,
        responses={
            201: TokenResponseSerializer,
            400: OpenApiResponse(description="Invalid email or weak password, or email taken"),
            429: OpenApiResponse(description="`throttled`"),
        },
        summary="Create an account (and log in)",
        description="Sets the `access_token` and `refresh_token` cookies, and returns the tokens in the body too.",
    )
    def post(self, request):
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.register(**data.validated_data)
        pair = tokens.issue_pair(user, user_agent=services.user_agent_of(request))
        return _token_response(request, pair, status.HTTP_201_CREATED, new_login=True)


class LoginView(PublicAuthView):
    throttle_classes = LOGIN_THROTTLES

    @extend_schema(
        request=LoginSerializer,
        responses={
            200: TokenResponseSerializer,
            401: OpenApiResponse(description="`invalid_credentials`: wrong email or password"),
            429: OpenApiResponse(description="`throttled`: too many attempts"),
        },
        summary="Log in",
        description="Sets the HTTP-only `access_token` and `refresh_token` cookies (and the `csrftoken` cookie), and returns the tokens in the body for non-browser clients.",
    )
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _, pair = services.log_in(**data.validated_data, request=request)
        return _token_response(request, pair, status.HTTP_200_OK, new_login=True)


def _refresh_token_from(request) -> str:
    """The body's token (non-browser clients), else the cookie, which then needs CSRF."""
    data = RefreshSerializer(data=request.data if hasattr(request.data, "get") else {})
    data.is_valid(raise_exception=True)
    raw = data.validated_data.get("refresh") or data.validated_data.get("refresh_token")
    if raw:
        return raw
    raw = request.COOKIES.get(settings.JWT_REFRESH_COOKIE, "")
    if raw:
        JWTCookieAuthentication().enforce_csrf(request)
    return raw


def _access_token_from(request) -> str:
    header = JWTCookieAuthentication().get_header(request)
    if header is not None:
        raw = JWTCookieAuthentication().get_raw_token(header)
        if raw:
            return raw.decode("latin-1")
    return request.COOKIES.get(settings.JWT_ACCESS_COOKIE, "")


class RefreshView(PublicAuthView):
    @extend_schema(
        request=RefreshSerializer,
        responses={
            200: TokenResponseSerializer,
            401: OpenApiResponse(description="`token_not_valid`: refresh token missing, expired or already used"),
        },
        summary="New tokens from the refresh token",
        description='Browsers send nothing (the `refresh_token` cookie is used; then `X-CSRFToken` is required); other clients send `{"refresh": ...}`. Both tokens rotate: the old refresh token stops working.',
    )
    def post(self, request):
        try:
            pair = tokens.rotate(_refresh_token_from(request))
        except tokens.InvalidRefreshToken as error:
            response = Response({"detail": f"Please log in again: {error}", "code": "token_not_valid"}, status=401)
            response["WWW-Authenticate"] = 'Bearer realm="api"'
            if not error.just_rotated:  # else another tab's refresh is setting the new cookies
                tokens.clear_auth_cookies(response)
            return response
        return _token_response(request, pair, status.HTTP_200_OK)


class LogoutView(PublicAuthView):
    @extend_schema(
        request=RefreshSerializer,
        responses={204: None},
        summary="Log out",
        description="Ends this login at once: its refresh token (cookie or body) and its access tokens (cookie or "
        "`Authorization`) stop working and its WebSockets close with 4401. Other devices stay logged in.",
    )
    def post(self, request):
        raw = _refresh_token_from(request)
        services.log_out(raw_refresh=raw, raw_access=_access_token_from(request))
        django_logout(request._request)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        tokens.clear_auth_cookies(response)
        return response


class LogoutEverywhereView(APIView):
    @extend_schema(
        request=None,
        responses={204: None},
        summary="Log out everywhere",
        description="Ends every login of the user at once, this one included: every refresh and access token "
        "stops working and every WebSocket closes with 4401.",
    )
    def post(self, request):
        tokens.revoke_all(request.user)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        tokens.clear_auth_cookies(response)
        return response


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserSerializer}, summary="The current user")
    def get(self, request):
        get_token(request._request)
        return Response(UserSerializer(request.user).data)

    @extend_schema(request=UserSerializer, responses={200: UserSerializer}, summary="Change the display name")
    def patch(self, request):
        data = UserSerializer(request.user, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.update_profile(request.user, display_name=data.validated_data.get("display_name", request.user.display_name))
        return Response(UserSerializer(request.user).data)


class PasswordChangeView(APIView):
    @extend_schema(
        request=PasswordChangeSerializer,
        responses={204: None, 400: OpenApiResponse(description="Wrong current password or weak new one")},
        summary="Change the password",
        description="Ends every other login at once (their tokens and WebSockets); this one stays, with fresh cookies.",
    )
    def post(self, request):
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        this_login = sessions.parse_id(request.auth.get(sessions.SID_CLAIM)) if request.auth is not None else None
        services.change_password(request.user, **data.validated_data, keep_session=this_login)
        # This device stays logged in (a fresh pair of its login for cookies); the others ended.
        response = Response(status=status.HTTP_204_NO_CONTENT)
        session = AuthSession.objects.filter(pk=this_login).first() if this_login else None
        tokens.set_auth_cookies(response, tokens.issue_pair(request.user, session))
        return response
