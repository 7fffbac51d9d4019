"""Helpers for the accounts tests: clients logged in by cookie, hand-made JWTs."""

import base64
import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

STRONG_PASSWORD = "violet-anchor-Plum-7391"


@pytest.fixture(autouse=True)
def _served_like_behind_the_proxy(settings):
    """DEBUG is off under test. Pages would need collectstatic's manifest: serve static plainly.
    The test client speaks plain HTTP where production sits behind a TLS proxy: no HTTPS redirect."""
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.SECURE_SSL_REDIRECT = False
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one


def api_login(client, email, password):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json")


@pytest.fixture
def cookie_client(db):
    """An APIClient that enforces CSRF and is logged in by the cookies of /api/auth/login."""

    def client_for(user):
        client = APIClient(enforce_csrf_checks=True)
        response = api_login(client, user.email, user.raw_password)
        assert response.status_code == 200, response.content
        assert "access_token" in client.cookies and "refresh_token" in client.cookies
        return client

    return client_for


def csrf_header(client) -> dict:
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def open_sid(user) -> str:
    """A login session of ``user``: what makes a hand-made token one the server would have issued."""
    from accounts.sessions import open_session

    return open_session(user).pk.hex


def make_jwt(user_id, *, token_type="access", exp_delta=300, key=None, algorithm=None, **extra) -> str:
    now = int(time.time())
    payload = {
        "token_type": token_type,
        "exp": now + exp_delta,
        "iat": now - 10,
        "jti": uuid.uuid4().hex,
        **({"user_id": str(user_id)} if user_id is not None else {}),
        **extra,
    }
    return jwt.encode(payload, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm or settings.SIMPLE_JWT["ALGORITHM"])


def unsigned_jwt(user_id, exp_delta=300) -> str:
    """An ``alg: none`` token: header and payload, empty signature."""

    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    payload = {"token_type": "access", "exp": now + exp_delta, "iat": now, "jti": uuid.uuid4().hex, "user_id": str(user_id)}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def tamper(token: str) -> str:
    """Change the payload (user id) but keep the original signature."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["user_id"] = str(int(data["user_id"]) + 1)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def assert_error_shape(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    if code is not None:
        assert body["code"] == code, body
    return body
