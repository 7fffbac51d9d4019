"""Hostile request bodies: oversized, deeply nested, wrong content types, wrong JSON types.

Every answer is a 4xx in the API's JSON error shape; none is a 500.
"""

import json

import pytest
from rest_framework.test import APIClient

from .conftest import assert_json_error, bearer_client, cookie_client, csrf_header

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
PUBLIC = ["/api/auth/login", "/api/auth/register", "/api/auth/refresh"]
AUTHED = ["/api/upload/presigned-url", "/api/upload/confirm", "/api/sketch/create", "/api/auth/password"]


def _client(user, path):
    return APIClient() if path in PUBLIC else bearer_client(user)


@pytest.mark.parametrize("size", [1 * MB, 10 * MB], ids=["1MB", "10MB"])
@pytest.mark.parametrize("path", PUBLIC + AUTHED)
def test_oversized_json_is_413(user, path, size):
    body = b'{"email": "a@example.com", "pad": "' + b"y" * size + b'"}'
    response = _client(user, path).post(path, body, content_type="application/json")
    assert_json_error(response, 413, "request_too_large")


def test_oversized_json_by_cookie_is_413(user):
    client = cookie_client(user)
    body = json.dumps({"display_name": "y" * (2 * MB)})
    response = client.patch("/api/auth/me", body, content_type="application/json", **csrf_header(client))
    assert_json_error(response, 413, "request_too_large")


def test_oversized_form_to_a_page_is_400_not_500(db):
    response = APIClient().post("/login/", "email=a&pad=" + "y" * (2 * MB), content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 413)


def test_many_form_fields_are_refused(db):
    """DATA_UPLOAD_MAX_NUMBER_FIELDS: a hash-flooding style body of many tiny fields."""
    body = "&".join(f"f{i}=1" for i in range(5000))
    response = APIClient().post("/api/auth/login", body, content_type="application/x-www-form-urlencoded")
    assert 400 <= response.status_code < 500
    assert response.status_code != 500


@pytest.mark.parametrize(
    "depth",
    [
        pytest.param(500, id="500"),
        pytest.param(5_000, id="5k"),
        pytest.param(60_000, id="60k"),
    ],
)
@pytest.mark.parametrize("path", ["/api/auth/login", "/api/sketch/create"])
def test_deeply_nested_json_is_400(user, path, depth):
    body = '{"email": ' + "[" * depth + "]" * depth + "}"
    assert len(body) < 256 * 1024  # under the size limit: only the depth is hostile
    client = _client(user, path)
    client.raise_request_exception = False
    response = client.post(path, body, content_type="application/json")
    assert_json_error(response, 400)


def test_nested_objects_in_options_are_400(user):
    nested = {}
    for _ in range(200):
        nested = {"a": nested}
    response = bearer_client(user).post(
        "/api/sketch/create",
        {"upload_id": "00000000-0000-0000-0000-000000000000", "style": "ink", "options": nested},
        format="json",
    )
    assert_json_error(response, 400)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/html",
        "application/xml",
        "multipart/form-data; boundary=xyz",
        "application/octet-stream",
        "application/json-patch+json",
        "",
    ],
)
@pytest.mark.parametrize("path", ["/api/auth/login", "/api/upload/presigned-url", "/api/sketch/create"])
def test_wrong_content_type_is_4xx(user, path, content_type):
    body = b'--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n--xyz--\r\n'
    response = _client(user, path).generic("POST", path, body, content_type=content_type)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
    assert_json_error(response, response.status_code)
    if content_type and not content_type.startswith("application/json"):
        assert response.status_code == 415, response.status_code


def test_real_multipart_to_a_json_endpoint_is_415(user):
    response = bearer_client(user).post(
        "/api/upload/presigned-url", {"filename": "a.png", "content_type": "image/png", "size": "10"}, format="multipart"
    )
    assert_json_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"not json",
        b'{"email": "a@example.com", "password": NaN}',
        b'{"email": "a@example.com", "password": Infinity}',
        b"\xff\xfe\x00\x00",
        b'"just a string"',
        b"[]",
        b"null",
        b"1e999999",
        pytest.param(
            b'{"email": "\\ud800@example.com", "password": "x"}',
            id="lone-surrogate",
        ),
    ],
)
def test_malformed_json_is_400(db, raw):
    client = APIClient()
    client.raise_request_exception = False
    response = client.post("/api/auth/login", raw, content_type="application/json")
    assert_json_error(response, 400)


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/auth/login", {"email": {"$ne": None}, "password": {"$ne": None}}),
        ("/api/auth/login", {"email": ["a@example.com"], "password": "x"}),
        ("/api/auth/login", {"email": "a\x00@example.com", "password": "x\x00"}),
        ("/api/auth/register", {"email": "a@example.com", "password": 12345678901234}),
        ("/api/upload/presigned-url", {"filename": "a.png", "content_type": "image/png", "size": 1e400}),
        ("/api/upload/presigned-url", {"filename": "a.png", "content_type": "image/png", "size": "10" * 200}),
        ("/api/upload/presigned-url", {"filename": "a\x00.png", "content_type": "image/png\x00", "size": 10}),
        ("/api/upload/presigned-url", {"filename": "x" * 100_000, "content_type": "image/png", "size": 10}),
        ("/api/upload/confirm", {"upload_id": "' OR 1=1 --"}),
        ("/api/upload/confirm", {"upload_id": ["00000000-0000-0000-0000-000000000000"]}),
        ("/api/sketch/create", {"upload_id": "00000000-0000-0000-0000-000000000000", "style": "ink\x00"}),
        ("/api/sketch/create", {"upload_id": "00000000-0000-0000-0000-000000000000", "style": "ink", "options": {"seed": 2**80}}),
        (
            "/api/sketch/create",
            {"upload_id": "00000000-0000-0000-0000-000000000000", "style": "ink", "options": {"__class__": 1}},
        ),
        ("/api/sketch/create", {"upload_id": "00000000-0000-0000-0000-000000000000", "style": "ink", "options": "not-an-object"}),
        ("/api/upload/presigned-url", {"filename": "\ud800.png", "content_type": "image/png", "size": 10}),  # lone surrogate
        ("/api/sketch/create", {"upload_id": "00000000-0000-0000-0000-000000000000", "style": "\udfff"}),
    ],
)
def test_wrong_json_types_are_4xx_not_500(user, path, payload):
    client = _client(user, path)
    client.raise_request_exception = False
    response = client.post(path, json.dumps(payload, allow_nan=True), content_type="application/json")
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert_json_error(response, response.status_code)


@pytest.mark.parametrize(
    "query",
    ["status=%00", "style=%00", "page=%00", "page=-1", "page=99999999999999999999", "page_size=%00", "status=queued&status=x"],
)
def test_odd_list_filters_are_4xx_not_500(user, query):
    client = bearer_client(user)
    client.raise_request_exception = False
    response = client.get(f"/api/sketch/?{query}")
    assert response.status_code in (200, 400, 404), (response.status_code, response.content[:300])
