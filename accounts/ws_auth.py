"""WebSocket authentication for ``/ws``.

A browser sends its cookies to any site's socket, so the access cookie counts only when the
``Origin`` is ours (cross-site WebSocket hijacking). A token in ``?token=`` or an
``Authorization`` header is not ambient, so it needs no Origin. Refusals are not silent: the
consumer accepts and closes with 4401 (who are you?) or 4403 (foreign origin).
"""

from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from . import tokens

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403


def origin_allowed(origin: str, own_origin: str = "") -> bool:
    """The rule of Django's CSRF origin check: scheme, host and port all match the origin the
    request came to (``own_origin``), the site's ``BASE_URL``, or a trusted origin (ALLOWED_ORIGINS,
    CSRF_TRUSTED_ORIGINS and their ``https://*.example.com`` patterns). A host name alone is not
    enough: another port of the same host is another site."""
    origin = origin.rstrip("/")
    if not origin or origin == "null":
        return False
    if origin in (own_origin, settings.SITE_ORIGIN) or origin in settings.ALLOWED_ORIGINS:
        return True
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if "*" in trusted:
            pattern = urlsplit(trusted)
            if pattern.scheme == parts.scheme and is_same_domain(parts.netloc, pattern.netloc[1:]):
                return True
    return False


def socket_origin(scope, headers) -> str:
    """``scheme://host[:port]`` the handshake was sent to, as Django's ``request.scheme`` and
    ``get_host()`` would read it; empty when the Host is not one of ALLOWED_HOSTS."""
    host = headers.get("host", "")
    domain, _port = split_domain_port(host)
    allowed_hosts = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    if not domain or not validate_host(domain, allowed_hosts):
        return ""
    secure = scope.get("scheme") in ("wss", "https")
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, value = proxy_header
        forwarded = headers.get(name.removeprefix("HTTP_").lower().replace("_", "-"), "")
        secure = secure or forwarded.split(",", 1)[0].strip() == value
    return f"{'https' if secure else 'http'}://{host}"


def _headers(scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name in headers:  # repeated headers are one list (HTTP/2 splits cookies), as Django joins them
            value = headers[name] + ("; " if name == "cookie" else ",") + value
        headers[name] = value
    return headers


def _token_from(scope, headers) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _cookie(headers, name) -> str:
    # Django's lenient parser, as for HTTP: SimpleCookie drops the whole header when any other
    # cookie of the host is unusual (a JSON value, a name like "a[0]"), and the socket would be refused.
    return parse_cookie(headers.get("cookie", "")).get(name, "")


class WebSocketAuthMiddleware(BaseMiddleware):
    """Sets ``scope["user"]``, ``scope["auth_session_id"]`` (the login the token belongs to, checked
    again on every message) and ``scope["auth_error"]`` (the close code of a refusal, or None)."""

    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        identity, scope["auth_error"] = await self.authenticate(scope)
        scope["user"] = identity.user if identity is not None else AnonymousUser()
        scope["auth_session_id"] = identity.session_id if identity is not None else None
        return await super().__call__(scope, receive, send)

    async def authenticate(self, scope):
        """(identity, None) or (None, close code)."""
        headers = _headers(scope)
        token = _token_from(scope, headers)
        if not token:
            token = _cookie(headers, settings.JWT_ACCESS_COOKIE)
            if not token:
                return None, CLOSE_UNAUTHENTICATED
            if not origin_allowed(headers.get("origin", ""), socket_origin(scope, headers)):
                return None, CLOSE_FORBIDDEN_ORIGIN
        identity = await database_sync_to_async(tokens.identify_raw)(token)
        return (identity, None) if identity is not None else (None, CLOSE_UNAUTHENTICATED)
