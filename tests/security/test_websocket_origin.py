"""Cross-site WebSocket hijacking, over a real daphne socket.

A browser sends its cookies with any site's WebSocket handshake, so the access cookie counts only
with an Origin of ours; a token (``?token=`` or ``Authorization``) is not ambient and needs none.

daphne is another process, so it must see committed rows. Instead of ``transaction=True`` (a
flush of every table after each test, ~1 s apiece) the module commits its few rows once and
deletes them at the end.
"""

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .conftest import claims, signed, unsigned

# django_db (rolled back, cheap) only so that pytest-django sets the test database up when this
# module runs alone; the rows daphne reads are committed by the ``people`` fixture.
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def server(stack_env, tmp_path_factory):
    from tests.support.processes import daphne

    logs = tmp_path_factory.mktemp("ws-security-logs")
    process, port = daphne(stack_env, logs)
    yield process, port
    process.kill()  # nothing to drain: SIGTERM would cost seconds of graceful shutdown


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker):
    """alice and mallory, committed, each with one unfinished sketch."""
    import uuid

    from accounts.models import User
    from accounts.sessions import open_session
    from sketches.models import Sketch, Upload

    made = {}
    with django_db_blocker.unblock():
        for name in ("alice", "mallory"):
            user = User.objects.create_user(
                email=f"ws-{name}-{uuid.uuid4().hex[:8]}@example.com", password="irrelevant-Pass-1234"
            )
            user.committed_sid = open_session(user).pk.hex
            upload = Upload.objects.create(
                owner=user, key=f"uploads/{user.pk}/{uuid.uuid4().hex}.png", content_type="image/png", status="confirmed"
            )
            sketch = Sketch.objects.create(
                owner=user, upload=upload, style="ink", method="basic", status="queued", task_id=uuid.uuid4().hex
            )
            made[name] = (user, sketch)
    yield made
    with django_db_blocker.unblock():
        for user, _sketch in made.values():
            Sketch.objects.filter(owner=user).delete()
            Upload.objects.filter(owner=user).delete()
            user.delete()


def access(user) -> str:
    """An access token of the user's committed login session (daphne must see the row)."""
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    token["sid"] = user.committed_sid
    return str(token)


def outcome(port, *, origin=None, cookie=None, token=None, bearer=None, path="/ws"):
    """("open", first message) or ("closed", close code)."""
    headers = {}
    if cookie:
        headers["Cookie"] = f"access_token={cookie}"
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    url = f"ws://127.0.0.1:{port}{path}" + (f"?token={token}" if token else "")
    with connect(url, origin=origin, additional_headers=headers, open_timeout=10, close_timeout=2) as socket:
        try:
            return "open", json.loads(socket.recv(timeout=10))
        except ConnectionClosed as closed:
            return "closed", closed.rcvd.code if closed.rcvd else None


def own_origin(port):
    return f"http://127.0.0.1:{port}"


FOREIGN_ORIGINS = [
    "https://evil.example",
    "http://evil.example",
    "null",
    "http://127.0.0.1.evil.example",
    "http://localhost.evil.example:80",
    "http://localhost@evil.example",
    "file://",
]


def test_cookie_with_own_origin_is_accepted(server, people):
    _, port = server
    alice, _ = people["alice"]
    kind, message = outcome(port, origin=own_origin(port), cookie=access(alice))
    assert kind == "open" and message["type"] == "sketch.snapshot", (kind, message)


def test_cookie_with_foreign_origin_is_closed_4403(server, people):
    _, port = server
    alice, _ = people["alice"]
    results = {origin: outcome(port, origin=origin, cookie=access(alice)) for origin in FOREIGN_ORIGINS}
    assert results == {origin: ("closed", 4403) for origin in FOREIGN_ORIGINS}


def test_another_port_or_scheme_of_our_host_is_closed_4403(server, people):
    """The attack: bob's cookie with ``Origin: http://127.0.0.1:9999`` got his snapshot."""
    _, port = server
    alice, _ = people["alice"]
    others = ["http://127.0.0.1:9999", f"https://127.0.0.1:{port}", f"http://localhost:{port + 1}"]
    results = {origin: outcome(port, origin=origin, cookie=access(alice)) for origin in others}
    assert results == {origin: ("closed", 4403) for origin in others}


def test_cookie_without_origin_is_refused(server, people):
    _, port = server
    kind, code = outcome(port, cookie=access(people["alice"][0]))
    assert kind == "closed" and code in (4401, 4403), (kind, code)


def test_token_with_foreign_origin_is_accepted(server, people):
    """Non-browser clients authenticate by what they send, not by ambient cookies: no Origin needed."""
    _, port = server
    alice, _ = people["alice"]
    kind, message = outcome(port, origin=EVIL, token=access(alice))
    assert kind == "open" and message["type"] == "sketch.snapshot", (kind, message)
    kind, message = outcome(port, origin=EVIL, bearer=access(alice))
    assert kind == "open" and message["type"] == "sketch.snapshot", (kind, message)


def test_bad_tokens_are_closed_4401(server, people):
    _, port = server
    alice, _ = people["alice"]
    good = access(alice)
    bad_tokens = {
        "alg_none": unsigned(claims(alice.pk)),
        "refresh_as_access": signed(claims(alice.pk, token_type="refresh", exp_delta=3600)),
        "expired": signed(claims(alice.pk, exp_delta=-120)),
        "wrong_key": signed(claims(alice.pk), key="attacker-chosen-secret-0123456789-abcdefghijklmnop"),
        "bad_signature": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "garbage": "garbage",
    }
    results = {}
    for name, bad in bad_tokens.items():
        results[f"{name} as token"] = outcome(port, origin=own_origin(port), token=bad)
        results[f"{name} as cookie"] = outcome(port, origin=own_origin(port), cookie=bad)
    assert results == {name: ("closed", 4401) for name in results}
    assert outcome(port, origin=own_origin(port)) == ("closed", 4401)  # nothing at all


def test_snapshot_holds_only_own_sketches(server, people):
    _, port = server
    mallory, mallory_sketch = people["mallory"]
    kind, message = outcome(port, origin=own_origin(port), token=access(mallory))
    assert kind == "open"
    assert [s["id"] for s in message["sketches"]] == [str(mallory_sketch.pk)]


def test_query_token_is_not_logged(server, people):
    process, port = server
    token = access(people["alice"][0])
    outcome(port, origin=EVIL, token=token)
    outcome(port, origin=EVIL, token=token + "x")  # a refused one too
    assert token.split(".")[2] not in process.output()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000, id="deep"),
        "{" * 50,
        "\x00",
        '{"type": "ping", "x": "\\ud800"}',
        "x" * 200_000,
    ],
    ids=["deep", "broken", "nul", "surrogate", "long"],
)
def test_hostile_frames_do_not_kill_the_socket(server, people, text):
    """A malformed frame gets an error message, and the socket keeps answering pings."""
    _, port = server
    url = f"ws://127.0.0.1:{port}/ws?token={access(people['alice'][0])}"
    with connect(url, open_timeout=10, close_timeout=2, max_size=2**22) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "sketch.snapshot"
        socket.send(text)
        socket.send(json.dumps({"type": "ping"}))
        replies = [json.loads(socket.recv(timeout=10)) for _ in range(2)]
        assert replies[-1] == {"type": "pong"}, replies
