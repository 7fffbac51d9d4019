"""accounts.ws_auth without a server: origins, where the token is read from, and the close codes."""

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings

from accounts.tokens import issue_pair
from accounts.ws_auth import (
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_UNAUTHENTICATED,
    WebSocketAuthMiddleware,
    _cookie,
    _headers,
    _token_from,
    origin_allowed,
    socket_origin,
)


def scope(path_query=b"", headers=()):
    return {
        "type": "websocket",
        "path": "/ws",
        "query_string": path_query,
        "headers": [(k.encode(), v.encode()) for k, v in headers],
    }


@override_settings(
    ALLOWED_ORIGINS=["https://app.example"],
    SITE_ORIGIN="https://sketch.example",
    ALLOWED_HOSTS=["sketch.example", ".example.org"],
)
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://app.example", True),
        ("https://app.example/", True),
        ("https://sketch.example", True),
        ("https://www.example.org", False),  # a host name of ours is not an origin of ours
        ("http://sketch.example", False),  # another scheme
        ("https://sketch.example:8443", False),  # another port
        ("https://app.example:443", False),  # Django's CSRF check compares the string as sent
        ("https://evil.example", False),
        ("https://sketch.example.evil.example", False),
        ("null", False),
        ("", False),
    ],
)
def test_origin_allowed(origin, allowed):
    assert origin_allowed(origin) is allowed


@override_settings(ALLOWED_ORIGINS=[], SITE_ORIGIN="https://sketch.example", ALLOWED_HOSTS=["127.0.0.1", "sketch.example"])
def test_the_sockets_own_origin_is_scheme_host_and_port():
    def own(scheme, headers):
        return socket_origin({"scheme": scheme}, headers)

    assert own("ws", {"host": "127.0.0.1:8000"}) == "http://127.0.0.1:8000"
    assert own("wss", {"host": "sketch.example"}) == "https://sketch.example"
    assert own("ws", {"host": "sketch.example", "x-forwarded-proto": "https"}) == "https://sketch.example"
    assert own("ws", {"host": "evil.example"}) == ""  # not one of ALLOWED_HOSTS: no origin is ours
    assert origin_allowed("http://127.0.0.1:8000", own("ws", {"host": "127.0.0.1:8000"}))
    assert not origin_allowed("http://127.0.0.1:9999", own("ws", {"host": "127.0.0.1:8000"}))
    assert not origin_allowed("https://127.0.0.1:8000", own("ws", {"host": "127.0.0.1:8000"}))


def test_token_from_query_or_bearer_header():
    assert _token_from(scope(b"token=abc&x=1"), {}) == "abc"
    assert _token_from(scope(b""), {"authorization": "Bearer xyz"}) == "xyz"
    assert _token_from(scope(b""), {"authorization": "bearer  xyz "}) == "xyz"
    assert _token_from(scope(b""), {"authorization": "Basic xyz"}) == ""
    assert _token_from(scope(b"token=q"), {"authorization": "Bearer h"}) == "q"


def test_cookie_parsing_is_lenient_and_joins_repeated_headers():
    headers = _headers(scope(headers=[("Cookie", 'a={"x":1}; b[0]=2'), ("Cookie", "access_token=tok")]))
    assert _cookie(headers, "access_token") == "tok"
    assert _cookie({"cookie": ""}, "access_token") == ""


@pytest.mark.django_db(transaction=True)  # database_sync_to_async reads from another thread
@override_settings(ALLOWED_ORIGINS=[], SITE_ORIGIN="https://sketch.example", ALLOWED_HOSTS=["sketch.example"])
def test_authenticate_outcomes(user):
    token = issue_pair(user).access
    authenticate = async_to_sync(WebSocketAuthMiddleware(None).authenticate)

    def auth(scope):
        identity, error = authenticate(scope)
        return (identity.user if identity else None, error)

    good_cookie = [("Cookie", f"access_token={token}"), ("Origin", "https://sketch.example")]
    assert auth(scope(headers=good_cookie)) == (user, None)
    assert (
        auth(scope(headers=[("Cookie", f"access_token={token}"), ("Origin", "https://evil.example")]))[1]
        == CLOSE_FORBIDDEN_ORIGIN
    )
    assert auth(scope(headers=[("Cookie", f"access_token={token}")]))[1] == CLOSE_FORBIDDEN_ORIGIN
    assert auth(scope(f"token={token}".encode())) == (user, None)
    assert auth(scope(b"token=bad"))[1] == CLOSE_UNAUTHENTICATED
    assert auth(scope())[1] == CLOSE_UNAUTHENTICATED
    # A token in the query is used even when a foreign Origin is present: it is not ambient.
    assert auth(scope(f"token={token}".encode(), headers=[("Origin", "https://evil.example")])) == (user, None)
