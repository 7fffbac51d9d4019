"""``/ws`` over daphne on a real socket: who may connect, how refusals look, and group isolation."""

import json
import time

import pytest
import requests
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as _connect

from accounts.tokens import issue_pair
from tests.accounts.conftest import make_jwt, tamper, unsigned_jwt

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

SNAPSHOT = {"type": "sketch.snapshot", "sketches": []}
# Generous timeouts: the suite may share a small machine with other busy processes.
TIMEOUT = 20


def connect(url, **kwargs):
    return _connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, **kwargs)


def receive(ws, timeout=TIMEOUT):
    return json.loads(ws.recv(timeout=timeout))


def close_code(ws, timeout=TIMEOUT):
    """The code the server closed with; fails if the server sends a message instead."""
    try:
        message = ws.recv(timeout=timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    pytest.fail(f"expected a close, got {message!r}")


# ----------------------------------------------------------------------------- accepted
def test_cookie_with_our_origin_is_accepted(web, user):
    token = issue_pair(user).access
    with connect(web.ws, origin=web.origin, additional_headers={"Cookie": f"csrftoken=x; access_token={token}"}) as ws:
        assert receive(ws) == SNAPSHOT


def test_query_token_is_accepted_without_origin(web, user):
    with connect(f"{web.ws}?token={issue_pair(user).access}") as ws:
        assert receive(ws) == SNAPSHOT


def test_authorization_header_is_accepted_without_origin(web, user):
    with connect(web.ws, additional_headers={"Authorization": f"Bearer {issue_pair(user).access}"}) as ws:
        assert receive(ws) == SNAPSHOT


def test_ping_pong_and_unknown_messages(web, user):
    with connect(f"{web.ws}?token={issue_pair(user).access}") as ws:
        assert receive(ws)["type"] == "sketch.snapshot"
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}
        ws.send(json.dumps({"type": "snapshot"}))
        assert receive(ws) == SNAPSHOT
        ws.send("not json")
        assert receive(ws)["type"] == "error"
        ws.send(json.dumps({"type": "launch-missiles"}))
        assert receive(ws)["type"] == "error"
        ws.send(json.dumps({"type": "ping"}))  # still alive after bad input
        assert receive(ws) == {"type": "pong"}


def test_a_binary_frame_is_closed_4003_without_an_error_in_the_log(web, user):
    """The attack: a binary frame logged a traceback and closed with 1011 (server error). Now it is
    4003, "unsupported data" (1003 itself cannot be sent through daphne: see sketches.consumers)."""
    before = len(web.log())
    with connect(f"{web.ws}?token={issue_pair(user).access}") as ws:
        assert receive(ws)["type"] == "sketch.snapshot"
        ws.send(b"\x00\x01binary")
        assert close_code(ws) == 4003
    time.sleep(0.5)  # the log line of a failure would follow the close
    written = web.log()[before:]
    assert "ERROR" not in written and "Traceback" not in written, written[-3000:]


# ----------------------------------------------------------------------------- refused, with a code
def test_cookie_with_a_foreign_origin_is_closed_4403(web, user):
    token = issue_pair(user).access
    with connect(web.ws, origin="https://evil.example", additional_headers={"Cookie": f"access_token={token}"}) as ws:
        assert close_code(ws) == 4403


def test_cookie_without_origin_is_closed_4403(web, user):
    with connect(web.ws, additional_headers={"Cookie": f"access_token={issue_pair(user).access}"}) as ws:
        assert close_code(ws) == 4403


def test_no_credentials_is_closed_4401(web, db):
    with connect(web.ws, origin=web.origin) as ws:
        assert close_code(ws) == 4401


@pytest.mark.parametrize("kind", ["garbage", "expired", "tampered", "alg_none", "refresh", "wrong_key"])
def test_bad_query_token_is_closed_4401(web, user, kind):
    pair = issue_pair(user)
    token = {
        "garbage": "nope",
        "expired": make_jwt(user.pk, exp_delta=-120),
        "tampered": tamper(pair.access),
        "alg_none": unsigned_jwt(user.pk),
        "refresh": pair.refresh,
        "wrong_key": make_jwt(user.pk, key="some-other-signing-key-0123456789abcdef"),
    }[kind]
    with connect(f"{web.ws}?token={token}") as ws:
        assert close_code(ws) == 4401


def test_bad_cookie_with_our_origin_is_closed_4401(web, user):
    with connect(
        web.ws, origin=web.origin, additional_headers={"Cookie": f"access_token={make_jwt(user.pk, exp_delta=-120)}"}
    ) as ws:
        assert close_code(ws) == 4401


def test_bad_authorization_header_is_closed_4401(web, db):
    with connect(web.ws, additional_headers={"Authorization": "Bearer nope"}) as ws:
        assert close_code(ws) == 4401


def test_inactive_user_is_closed_4401(web, user):
    token = issue_pair(user).access
    user.is_active = False
    user.save()
    with connect(f"{web.ws}?token={token}") as ws:
        assert close_code(ws) == 4401


# ----------------------------------------------------------------------------- groups
def test_a_user_never_receives_another_users_messages(web, make_user):
    alice, bob = make_user(), make_user()
    layer = get_channel_layer()
    with connect(f"{web.ws}?token={issue_pair(alice).access}") as a, connect(f"{web.ws}?token={issue_pair(bob).access}") as b:
        assert receive(a)["type"] == receive(b)["type"] == "sketch.snapshot"  # both have joined their groups
        async_to_sync(layer.group_send)(
            f"user-{alice.pk}", {"type": "sketch.update", "sketch": {"id": 101, "status": "processing"}}
        )
        assert receive(a) == {"type": "sketch.update", "sketch": {"id": 101, "status": "processing"}}
        with pytest.raises(TimeoutError):
            b.recv(timeout=1)
        # Bob's socket works: his own news arrives, and only his.
        async_to_sync(layer.group_send)(f"user-{bob.pk}", {"type": "sketch.update", "sketch": {"id": 202, "status": "completed"}})
        assert receive(b) == {"type": "sketch.update", "sketch": {"id": 202, "status": "completed"}}
        with pytest.raises(TimeoutError):
            a.recv(timeout=0.5)


def test_every_socket_of_a_user_receives_its_news(web, user):
    layer = get_channel_layer()
    token = issue_pair(user).access
    with (
        connect(f"{web.ws}?token={token}") as one,
        connect(web.ws, origin=web.origin, additional_headers={"Cookie": f"access_token={token}"}) as two,
    ):
        receive(one), receive(two)
        async_to_sync(layer.group_send)(f"user-{user.pk}", {"type": "sketch.update", "sketch": {"id": 7}})
        assert receive(one)["sketch"] == receive(two)["sketch"] == {"id": 7}


# ----------------------------------------------------------------------------- logs
def test_tokens_and_query_strings_never_reach_the_log(web, user):
    token = issue_pair(user).access
    with connect(f"{web.ws}?token={token}") as ws:
        assert receive(ws)["type"] == "sketch.snapshot"
    with connect(f"{web.ws}?token={token}x") as ws:  # a refused one is logged too
        assert close_code(ws) == 4401
    # HTTP requests with credentials in the query and in headers.
    requests.get(f"{web.http}/health?token={token}", timeout=30)
    requests.get(
        f"{web.http}/api/auth/me?token={token}&password=hunter2", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    requests.get(f"{web.http}/api/auth/me", cookies={"access_token": token}, timeout=30)
    time.sleep(0.5)
    log = web.log()
    assert "/api/auth/me" in log, log[-2000:]  # the requests were logged...
    assert token not in log and token.split(".")[2] not in log  # ...without the token
    assert "eyJ" not in log  # nor any other JWT, from any test of this module
    assert "token=" not in log and "hunter2" not in log


def test_unusual_other_cookies_do_not_hide_the_access_cookie(web, user):
    """Other apps on the host may set cookies Python's SimpleCookie rejects; HTTP and /ws must agree."""
    token = issue_pair(user).access
    cookie = f'prefs={{"theme":"dark"}}; cart[0]=1; access_token={token}; csrftoken=abc'
    with connect(web.ws, origin=web.origin, additional_headers={"Cookie": cookie}) as ws:
        assert receive(ws) == SNAPSHOT
    assert requests.get(f"{web.http}/api/auth/me", headers={"Cookie": cookie}, timeout=30).status_code == 200
