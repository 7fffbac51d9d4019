"""Tokens end when the user ends them: logout, log out everywhere, a password change, deactivation
and a replayed refresh token, over real HTTP and open WebSockets on a real daphne.

The attack run found: after logout a Bearer call still got 200; after "log out everywhere" a second
browser still loaded the gallery; an open WebSocket still answered; reusing a rotated refresh token
was refused but the newer token of its chain stayed valid. Each test below replays one of those.
"""

import contextlib
import json
import uuid
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

PASSWORD = "violet-anchor-Plum-7391"
NEW_PASSWORD = "copper-lantern-Fig-2684"
TIMEOUT = 20


@pytest.fixture(scope="module")
def server(stack_env, tmp_path_factory):
    """daphne on the test database, with the Redis channel layer this process also reaches.
    DEBUG on only so that the cookies (not Secure then) travel over plain http like a browser's."""
    from tests.support.processes import daphne, free_port

    port = free_port()
    env = {
        **stack_env,
        "DEBUG": "true",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "THROTTLE_REGISTER_IP": "1000/min",
        "THROTTLE_LOGIN_IP": "1000/min",
        "THROTTLE_LOGIN_EMAIL": "1000/min",
    }
    process, port = daphne(env, tmp_path_factory.mktemp("revocation-logs"), port=port)
    yield f"http://127.0.0.1:{port}"
    process.kill()


class Device:
    """One browser or API client of the same account: its cookies, its Bearer token, its socket."""

    def __init__(self, base, email, sockets: contextlib.ExitStack):
        self.base, self.email, self.sockets = base, email, sockets
        self.session = requests.Session()
        self.socket = None

    def login(self, password=PASSWORD):
        response = self.session.post(f"{self.base}/api/auth/login", json={"email": self.email, "password": password}, timeout=30)
        assert response.status_code == 200, response.text
        self.access = response.json()["access_token"]
        self.refresh = self.session.cookies["refresh_token"]
        return self

    def csrf(self):
        return {"X-CSRFToken": self.session.cookies["csrftoken"]}

    def bearer_me(self):
        return requests.get(f"{self.base}/api/auth/me", headers={"Authorization": f"Bearer {self.access}"}, timeout=30)

    def gallery(self):
        return self.session.get(f"{self.base}/sketches/", allow_redirects=False, timeout=30)

    def open_socket(self):
        ws_url = self.base.replace("http://", "ws://") + f"/ws?token={self.access}"
        self.socket = self.sockets.enter_context(connect(ws_url, open_timeout=TIMEOUT, close_timeout=5))
        assert json.loads(self.socket.recv(timeout=TIMEOUT))["type"] == "sketch.snapshot"
        return self

    def socket_answers(self) -> bool:
        self.socket.send(json.dumps({"type": "ping"}))
        return json.loads(self.socket.recv(timeout=TIMEOUT)) == {"type": "pong"}

    def socket_close_code(self, timeout=TIMEOUT):
        """The code the server closes with, unprompted (no message is sent to it)."""
        try:
            message = self.socket.recv(timeout=timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        pytest.fail(f"the socket stayed open and sent {message!r}")


@pytest.fixture
def account(server):
    email = f"revoke-{uuid.uuid4().hex[:10]}@example.com"
    response = requests.post(f"{server}/api/auth/register", json={"email": email, "password": PASSWORD}, timeout=30)
    assert response.status_code == 201, response.text
    return email


@pytest.fixture
def device(server, account):
    """Another device of the account (each call), its socket closed after the test."""
    with contextlib.ExitStack() as sockets:
        yield lambda: Device(server, account, sockets)


def test_logout_ends_this_device_at_once_and_no_other(server, account, device):
    laptop, phone = device().login().open_socket(), device().login().open_socket()
    assert laptop.bearer_me().status_code == 200  # control: before the logout
    response = laptop.session.post(f"{server}/api/auth/logout", headers=laptop.csrf(), timeout=30)
    assert response.status_code == 204
    assert laptop.bearer_me().status_code == 401  # was 200 until the token expired
    assert laptop.socket_close_code() == 4401  # closed by the server, not left answering
    refresh = requests.post(f"{server}/api/auth/refresh", json={"refresh": laptop.refresh}, timeout=30)
    assert refresh.status_code == 401
    # The phone is another login: untouched.
    assert phone.bearer_me().status_code == 200
    assert phone.socket_answers()
    assert phone.gallery().status_code == 200


def test_logout_by_bearer_alone_ends_the_access_token(server, account, device):
    """A non-browser client that sends only its access token."""
    client = device().login()
    response = requests.post(f"{server}/api/auth/logout", headers={"Authorization": f"Bearer {client.access}"}, timeout=30)
    assert response.status_code == 204
    assert client.bearer_me().status_code == 401


def test_logout_everywhere_ends_every_browser_and_socket(server, account, device):
    first, second = device().login(), device().login().open_socket()
    assert second.gallery().status_code == 200
    response = first.session.post(f"{server}/api/auth/logout-all", headers=first.csrf(), timeout=30)
    assert response.status_code == 204
    assert second.socket_close_code() == 4401
    page = second.gallery()  # its refresh cookie is refused too, so no silent re-login
    assert page.status_code == 302 and page.headers["Location"].startswith("/login/"), page.status_code
    assert second.bearer_me().status_code == 401
    assert first.bearer_me().status_code == 401


def test_a_password_change_ends_the_other_devices_and_keeps_this_one(server, account, device):
    this, other = device().login().open_socket(), device().login().open_socket()
    response = this.session.post(
        f"{server}/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=this.csrf(),
        timeout=30,
    )
    assert response.status_code == 204, response.text
    assert other.socket_close_code() == 4401
    assert other.bearer_me().status_code == 401
    assert other.gallery().status_code == 302
    assert this.bearer_me().status_code == 200 and this.socket_answers()
    assert this.gallery().status_code == 200


def test_deactivation_ends_tokens_and_sockets(server, account, device):
    from accounts.models import User

    device = device().login().open_socket()
    user = User.objects.get(email=account)
    user.is_active = False
    user.save(update_fields=["is_active"])  # as the admin's form does: the signal ends every login
    assert device.socket_close_code() == 4401
    assert device.bearer_me().status_code == 401


def test_a_socket_that_missed_the_news_is_closed_at_its_next_message(server, account, device):
    """Channel-layer delivery is at-most-once: every message checks the session again."""
    from accounts.models import AuthSession

    device = device().login().open_socket()
    assert device.socket_answers()
    AuthSession.objects.filter(user__email=account).update(ended_at=timezone.now())  # no event sent
    device.socket.send(json.dumps({"type": "ping"}))
    assert device.socket_close_code() == 4401


def test_a_replayed_refresh_token_ends_its_whole_family(server, account, device):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.tokens import ROTATION_RACE_SECONDS

    victim = device().login().open_socket()
    stolen = victim.refresh
    # The thief refreshes first and gets the newer pair of the chain.
    rotated = requests.post(f"{server}/api/auth/refresh", json={"refresh": stolen}, timeout=30)
    assert rotated.status_code == 200
    thief_access, thief_refresh = rotated.json()["access_token"], rotated.cookies["refresh_token"]
    # Later (past the window in which two tabs of one browser may race), the owner sends the used token.
    BlacklistedToken.objects.filter(token__jti=RefreshToken(stolen, verify=False)["jti"]).update(
        blacklisted_at=timezone.now() - timedelta(seconds=ROTATION_RACE_SECONDS + 5)
    )
    replay = requests.post(f"{server}/api/auth/refresh", json={"refresh": stolen}, timeout=30)
    assert replay.status_code == 401 and "already used" in replay.json()["detail"]
    # The whole family is gone: the thief's newer tokens and the owner's socket.
    thief_me = requests.get(f"{server}/api/auth/me", headers={"Authorization": f"Bearer {thief_access}"}, timeout=30)
    assert thief_me.status_code == 401
    assert requests.post(f"{server}/api/auth/refresh", json={"refresh": thief_refresh}, timeout=30).status_code == 401
    assert victim.socket_close_code() == 4401
    # Other logins of the account are not its family.
    assert device().login().bearer_me().status_code == 200


def test_two_tabs_racing_one_refresh_do_not_end_the_session(server, account, device):
    device = device().login()
    first = requests.post(f"{server}/api/auth/refresh", json={"refresh": device.refresh}, timeout=30)
    second = requests.post(f"{server}/api/auth/refresh", json={"refresh": device.refresh}, timeout=30)
    assert first.status_code == 200 and second.status_code == 401
    winner = first.json()["access_token"]
    assert requests.get(f"{server}/api/auth/me", headers={"Authorization": f"Bearer {winner}"}, timeout=30).status_code == 200


@pytest.mark.parametrize("user_id", ["abc", "1e3", str(10**30), "-1"])
def test_a_signed_token_with_a_user_id_that_is_no_number_is_401(server, account, user_id):
    """The attack: a validly signed token whose user_id is not a number gave a 500."""
    import jwt
    from django.conf import settings

    from accounts.models import User
    from accounts.sessions import open_session

    sid = open_session(User.objects.get(email=account)).pk.hex
    now = int(timezone.now().timestamp())
    claims = {"exp": now + 300, "iat": now, "jti": uuid.uuid4().hex, "user_id": user_id, "sid": sid}
    key, algorithm = settings.SIMPLE_JWT["SIGNING_KEY"], settings.SIMPLE_JWT["ALGORITHM"]
    access = jwt.encode({**claims, "token_type": "access"}, key, algorithm=algorithm)
    refresh = jwt.encode({**claims, "token_type": "refresh"}, key, algorithm=algorithm)
    me = requests.get(f"{server}/api/auth/me", headers={"Authorization": f"Bearer {access}"}, timeout=30)
    assert me.status_code == 401 and me.json()["code"] == "token_not_valid", me.text
    page = requests.get(f"{server}/sketches/", cookies={"access_token": access}, allow_redirects=False, timeout=30)
    assert page.status_code == 302
    assert requests.post(f"{server}/api/auth/refresh", json={"refresh": refresh}, timeout=30).status_code == 401
    url = server.replace("http://", "ws://") + f"/ws?token={access}"
    with connect(url, open_timeout=TIMEOUT) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=TIMEOUT)
    assert closed.value.rcvd.code == 4401
