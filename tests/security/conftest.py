"""Helpers of the security tests: clients by cookie or Bearer, hand-made JWTs, owned objects.

Everything here runs in the pytest process (local media under a per-test MEDIA_ROOT) except the
WebSocket tests, which start a real daphne, and the S3 tests, which use the SeaweedFS fixture.
"""

import base64
import json
import time
import uuid

import jwt
import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.conftest import image_bytes


@pytest.fixture(autouse=True)
def _security_settings(settings, tmp_path):
    """Static files without collectstatic's manifest (DEBUG is off), and media of this test only."""
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP; TLS is the proxy's job
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.AWS_BUCKET_NAME = ""
    settings.USE_S3 = False
    from sketches.storage import get_storage

    get_storage.cache_clear()
    yield
    get_storage.cache_clear()


# ----------------------------------------------------------------------------- responses
def assert_json_error(response, status, code=None):
    """The API's error shape: JSON ``{"detail": str, "code": str}`` with the given status."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), (response["Content-Type"], response.content[:300])
    body = json.loads(response.content)
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    if code is not None:
        assert body["code"] == code, body
    return body


def error_code(response):
    try:
        return json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        return None


# ----------------------------------------------------------------------------- clients
def cookie_client(user, *, csrf=True) -> APIClient:
    """A browser-like client: CSRF enforced, the access + refresh cookies of ``user``, and a csrftoken cookie."""
    from accounts.tokens import issue_pair

    client = APIClient(enforce_csrf_checks=True)
    pair = issue_pair(user)
    client.cookies["access_token"] = pair.access
    client.cookies["refresh_token"] = pair.refresh
    if csrf:
        response = client.get("/api/auth/me")  # sets the csrftoken cookie
        assert response.status_code == 200, response.content
        assert "csrftoken" in client.cookies
    return client


def csrf_header(client) -> dict:
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def bearer_client(user) -> APIClient:
    from accounts.tokens import issue_pair

    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")
    return client


# ----------------------------------------------------------------------------- JWTs by hand
def b64url(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(user_id, *, token_type="access", exp_delta=300, **extra) -> dict:
    now = int(time.time())
    payload = {"token_type": token_type, "exp": now + exp_delta, "iat": now - 5, "jti": uuid.uuid4().hex}
    if user_id is not None:
        payload["user_id"] = str(user_id)
    payload.update(extra)
    return payload


def signed(payload: dict, *, key=None, algorithm=None, headers=None) -> str:
    return jwt.encode(
        payload,
        django_settings.SIMPLE_JWT["SIGNING_KEY"] if key is None else key,
        algorithm=algorithm or django_settings.SIMPLE_JWT["ALGORITHM"],
        headers=headers,
    )


def unsigned(payload: dict, alg="none") -> str:
    return f"{b64url({'alg': alg, 'typ': 'JWT'})}.{b64url(payload)}."


def with_header(token: str, **header) -> str:
    """Swap a real token's header (e.g. claim RS256) and keep its payload and signature."""
    _, payload, signature = token.split(".")
    return f"{b64url({'typ': 'JWT', **header})}.{payload}.{signature}"


# ----------------------------------------------------------------------------- owned objects
def put_file(key: str, data: bytes) -> None:
    from sketches.storage import get_storage

    get_storage().write(key, data, "image/png")


@pytest.fixture
def owned(db):
    """Objects of one user: a confirmed upload (with its file) and a completed sketch (with its result)."""
    from sketches.models import Sketch, Upload

    def make(user, *, upload_status=Upload.Status.CONFIRMED, sketch_status=Sketch.Status.COMPLETED):
        png = image_bytes()
        upload = Upload.objects.create(
            owner=user,
            key=f"uploads/{user.pk}/{uuid.uuid4().hex}.png",
            original_name="holiday.png",
            content_type="image/png",
            size=len(png),
            width=64,
            height=48,
            status=upload_status,
        )
        put_file(upload.key, png)
        sketch = Sketch.objects.create(
            owner=user,
            upload=upload,
            style="pencil",
            method="basic",
            status=sketch_status,
            task_id=uuid.uuid4().hex,
            progress=100,
        )
        if sketch_status == Sketch.Status.COMPLETED:
            sketch.result_key = f"results/{user.pk}/{sketch.pk}-{uuid.uuid4().hex[:8]}.png"
            sketch.result_size, sketch.result_width, sketch.result_height = len(png), 64, 48
            sketch.save()
            put_file(sketch.result_key, png)
        return upload, sketch

    return make
