"""Upload policy tampering: the form of a presigned POST, changed by the client.

Local storage (``POST /api/upload/local``, a Django view checking a signed policy) and S3
(SeaweedFS, which enforces presigned POST policies as S3 does) must both refuse a changed key,
Content-Type or size, an expired or forged policy, and store nothing when they refuse.
"""

import time
import uuid
from unittest import mock

import pytest
import requests
from django.core import signing

from sketches.storage import UPLOAD_POLICY_SALT
from tests.support.s3 import seaweed_storage

from .conftest import bearer_client

pytestmark = pytest.mark.django_db

LOCAL_URL = "/api/upload/local"


def stored_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def presign(user):
    client = bearer_client(user)

    def make(content_type="image/png", size=1000):
        response = client.post(
            "/api/upload/presigned-url", {"filename": "me.png", "content_type": content_type, "size": size}, format="json"
        )
        assert response.status_code == 201, response.content
        return response.json()

    return make


def post_local(client, fields: dict, data: bytes | None = b"\x89PNG\r\n\x1a\n" + b"x" * 100, filename="me.png"):
    form = dict(fields)
    if data is not None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        form["file"] = SimpleUploadedFile(filename, data, content_type=fields.get("Content-Type", "image/png"))
    return client.post(LOCAL_URL, form)  # multipart, no cookies: like the browser's cross-origin form post


def test_untampered_form_is_stored(client, presign, settings):
    """The control: the form as handed out works."""
    form = presign()
    response = post_local(client, form["fields"])
    assert response.status_code == 204, response.content
    assert stored_files(settings) == [form["key"]]


@pytest.mark.parametrize(
    "change",
    [
        {"key": "uploads/999999/stolen.png"},
        {"key": "../../escape.png"},
        {"key": "{key}.html"},
        {"Content-Type": "text/html"},
        {"Content-Type": "image/svg+xml"},
        {"Content-Type": "IMAGE/PNG"},
        {"policy": "{policy}x"},
        {"policy": ""},
        {"policy": "not-a-policy"},
    ],
    ids=[
        "other-user-key",
        "traversal-key",
        "other-extension",
        "html",
        "svg",
        "case",
        "sig-appended",
        "policy-empty",
        "policy-garbage",
    ],
)
def test_tampered_form_is_403_and_stores_nothing(client, presign, settings, change):
    form = presign()
    fields = dict(form["fields"])
    for name, value in change.items():
        fields[name] = value.format(key=fields["key"], policy=fields["policy"])
    response = post_local(client, fields)
    assert response.status_code == 403, response.content
    assert b"AccessDenied" in response.content
    assert stored_files(settings) == []


def test_policy_missing_is_403(client, presign, settings):
    fields = dict(presign()["fields"])
    del fields["policy"]
    assert post_local(client, fields).status_code == 403
    assert stored_files(settings) == []


def test_policy_signed_with_another_key_is_403(client, presign, settings, user):
    fields = dict(presign()["fields"])
    forged = {"key": f"uploads/{user.pk}/{uuid.uuid4().hex}.png", "content_type": "image/png", "max_size": 10**12}
    fields.update(
        key=forged["key"],
        policy=signing.dumps(forged, key="attacker-guess-of-the-secret-key-0123456789", salt=UPLOAD_POLICY_SALT),
    )
    assert post_local(client, fields).status_code == 403
    assert stored_files(settings) == []


def test_download_token_is_not_an_upload_policy(client, settings, user):
    """Another signed value of ours (a download link's token) must not pass as a policy: salts differ."""
    from sketches.storage import get_storage

    key = f"uploads/{user.pk}/{uuid.uuid4().hex}.png"
    token = get_storage().download_url(key, "x.png").split("token=", 1)[1]
    from urllib.parse import unquote

    fields = {"key": key, "Content-Type": "image/png", "policy": unquote(token)}
    assert post_local(client, fields).status_code == 403
    assert stored_files(settings) == []


def test_expired_policy_is_403(client, presign, settings):
    form = presign()
    fields = dict(form["fields"])
    policy = signing.loads(fields["policy"], salt=UPLOAD_POLICY_SALT)
    real_time = time.time
    with mock.patch("django.core.signing.time.time", lambda: real_time() - settings.AWS_PRESIGNED_URL_EXPIRATION - 60):
        fields["policy"] = signing.dumps(policy, salt=UPLOAD_POLICY_SALT)  # the same policy, signed long ago
    response = post_local(client, fields)
    assert response.status_code == 403
    assert b"expired" in response.content
    assert stored_files(settings) == []


def test_file_over_the_signed_size_is_400(client, settings, user):
    settings.MAX_FILE_SIZE = 1000
    form = (
        bearer_client(user)
        .post("/api/upload/presigned-url", {"filename": "a.png", "content_type": "image/png", "size": 500}, format="json")
        .json()
    )
    response = post_local(client, form["fields"], data=b"\x89PNG" + b"x" * 2000)
    assert response.status_code == 400
    assert b"EntityTooLarge" in response.content
    assert stored_files(settings) == []


def test_policy_size_limit_is_not_the_settings_of_the_moment(client, settings, user):
    """The limit travels in the signed policy: raising nothing on the client side can widen it."""
    settings.MAX_FILE_SIZE = 1000
    form = (
        bearer_client(user)
        .post("/api/upload/presigned-url", {"filename": "a.png", "content_type": "image/png", "size": 500}, format="json")
        .json()
    )
    fields = dict(form["fields"], max_size="999999999", **{"content-length-range": "1,999999999"})
    assert post_local(client, fields, data=b"x" * 2000).status_code == 400
    assert stored_files(settings) == []


def test_missing_file_is_400(client, presign, settings):
    response = post_local(client, presign()["fields"], data=None)
    assert response.status_code == 400
    assert stored_files(settings) == []


def test_empty_file_is_400(client, presign, settings):
    response = post_local(client, presign()["fields"], data=b"")
    assert response.status_code == 400
    assert stored_files(settings) == []


def test_get_is_not_an_upload(client, presign):
    assert client.get(LOCAL_URL, presign()["fields"]).status_code == 405


@pytest.mark.parametrize("content_type", ["image/svg+xml", "text/html", "application/octet-stream", "image/png; charset=x"])
def test_presign_refuses_types_outside_the_allow_list(user, content_type):
    response = bearer_client(user).post(
        "/api/upload/presigned-url", {"filename": "a.svg", "content_type": content_type, "size": 100}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "unsupported_type"


@pytest.mark.parametrize(
    "payload",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"<!doctype html><script>alert(document.cookie)</script>",
        b"GIF89a<script>alert(1)</script>",  # a magic number, then nothing an image decoder accepts
    ],
    ids=["svg", "html", "gif-polyglot"],
)
def test_confirm_rejects_non_images_posing_as_png_and_deletes_them(client, presign, settings, user, payload):
    """The policy pins the declared type, not the bytes: confirm checks the bytes and removes what fails."""
    form = presign()
    assert post_local(client, form["fields"], data=payload).status_code == 204
    api = bearer_client(user)
    response = api.post("/api/upload/confirm", {"upload_id": form["upload_id"]}, format="json")
    assert response.status_code == 400, response.content
    assert stored_files(settings) == []
    assert api.get(f"/api/upload/download-url/{form['key']}").status_code == 404


# ----------------------------------------------------------------------------- S3 (SeaweedFS)
BUCKET = "security-tests"


@pytest.fixture(scope="module")
def s3(seaweed):
    """The app's own S3Storage over a django-storages backend configured as settings.STORAGES does."""
    seaweed.ensure_bucket(BUCKET)
    return seaweed.client(), lambda expires_in=300: seaweed_storage(seaweed, BUCKET, expires_in)


def s3_exists(client, key) -> bool:
    try:
        client.head_object(Bucket=BUCKET, Key=key)
        return True
    except client.exceptions.ClientError:
        return False


def s3_post(presigned, *, data=b"\x89PNG\r\n\x1a\n" + b"x" * 100, **changes):
    fields = dict(presigned.fields)
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return requests.post(
        presigned.url, data=fields, files={"file": ("me.png", data, fields.get("Content-Type", "image/png"))}, timeout=30
    )


def new_key() -> str:
    return f"uploads/1/{uuid.uuid4().hex}.png"


def test_s3_untampered_form_is_stored(s3):
    client, storage = s3
    key = new_key()
    response = s3_post(storage().presign_upload(key, "image/png", 1000))
    assert response.status_code in (200, 201, 204), response.text
    assert s3_exists(client, key)


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"key": "uploads/2/stolen.png"}, 403),
        ({"Content-Type": "text/html"}, 403),
        ({"Content-Type": "image/svg+xml"}, 403),
        ({"policy": None}, 403),
        ({"x-amz-signature": "0" * 64}, 403),
        ({"x-amz-credential": "sketchsite/20000101/us-east-1/s3/aws4_request"}, 403),
    ],
    ids=["other-key", "html", "svg", "no-policy", "forged-signature", "other-credential-date"],
)
def test_s3_tampered_form_is_refused(s3, changes, status):
    client, storage = s3
    key = new_key()
    response = s3_post(storage().presign_upload(key, "image/png", 1000), **changes)
    assert response.status_code == status, response.text
    assert not s3_exists(client, key)
    if "key" in changes:
        assert not s3_exists(client, changes["key"])


def test_s3_policy_with_widened_size_is_refused(s3):
    """Rewriting the policy document itself (bigger size) breaks its signature."""
    import base64
    import json

    client, storage = s3
    key = new_key()
    presigned = storage().presign_upload(key, "image/png", 100)
    policy = json.loads(base64.b64decode(presigned.fields["policy"]))
    policy["conditions"] = [
        c if not (isinstance(c, list) and c[0] == "content-length-range") else ["content-length-range", 1, 10**9]
        for c in policy["conditions"]
    ]
    widened = base64.b64encode(json.dumps(policy).encode()).decode()
    response = s3_post(presigned, data=b"x" * 1000, policy=widened)
    assert response.status_code == 403, response.text
    assert not s3_exists(client, key)


def test_s3_file_over_the_limit_is_refused(s3):
    client, storage = s3
    key = new_key()
    response = s3_post(storage().presign_upload(key, "image/png", 100), data=b"x" * 1000)
    assert response.status_code == 400 and "EntityTooLarge" in response.text, response.text
    assert not s3_exists(client, key)


def test_s3_empty_file_is_refused(s3):
    client, storage = s3
    key = new_key()
    response = s3_post(storage().presign_upload(key, "image/png", 100), data=b"")
    assert response.status_code == 400, response.text
    assert not s3_exists(client, key)


def test_s3_expired_policy_is_refused(s3):
    client, storage = s3
    key = new_key()
    response = s3_post(storage(expires_in=-60).presign_upload(key, "image/png", 1000))
    assert response.status_code == 403 and "expired" in response.text.lower(), response.text
    assert not s3_exists(client, key)


def test_s3_conditions_match_what_the_app_presigns(s3):
    """The policy the app signs pins exactly these: the bucket, the key, the type and the size range."""
    import base64
    import json

    _, storage = s3
    key = new_key()
    policy = json.loads(base64.b64decode(storage().presign_upload(key, "image/jpeg", 12345).fields["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": BUCKET} in conditions
    assert {"key": key} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 12345] in conditions
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)  # no prefix wildcards
