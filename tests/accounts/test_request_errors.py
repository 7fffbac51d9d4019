"""Bad bodies never cause a 500: bad JSON, wrong types, wrong media types, huge bodies → JSON errors."""

import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from .conftest import assert_error_shape

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout"]


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    "raw",
    [b"{bad json", b"\xff\xfe\x00", b'{"email": "a@b.c", "password": ', b"NaN-ish", b'"just a string"'],
    ids=["syntax", "not-utf8", "truncated", "not-json", "string"],
)
def test_bad_json_is_400(url, raw):
    response = APIClient().post(url, raw, content_type="application/json")
    if response.status_code == 204:  # logout: a JSON value that is not an object carries no token
        assert url.endswith("logout") and raw.startswith(b'"')
        return
    assert response.status_code in (400, 401), response.content
    body = assert_error_shape(response, response.status_code)
    if response.status_code == 401:  # refresh: a JSON value that is not an object carries no token
        assert url.endswith("refresh") and raw.startswith(b'"'), body


@pytest.mark.parametrize("url", ["/api/auth/register", "/api/auth/login"])
@pytest.mark.parametrize("payload", [[1, 2], 42, None, "text"], ids=["list", "number", "null", "string"])
def test_json_that_is_not_an_object_is_400(url, payload):
    response = APIClient().post(url, json.dumps(payload), content_type="application/json")
    assert_error_shape(response, 400)


@pytest.mark.parametrize("url", ENDPOINTS)
def test_huge_json_body_is_413(url):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps({"email": "a@example.com", "password": "x", "pad": "y" * (limit + 10)})
    response = APIClient().post(url, body, content_type="application/json")
    assert_error_shape(response, 413, "request_too_large")


def test_huge_form_body_is_413():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = "email=a%40example.com&password=x&pad=" + "y" * (limit + 10)
    response = APIClient().post("/api/auth/login", body, content_type="application/x-www-form-urlencoded")
    assert_error_shape(response, 413, "request_too_large")


def test_huge_body_to_a_cookie_authenticated_endpoint_is_413(cookie_client, user):
    client = cookie_client(user)
    body = json.dumps({"display_name": "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = client.patch(
        "/api/auth/me", body, content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )
    assert_error_shape(response, 413, "request_too_large")


def test_body_just_under_the_limit_is_parsed():
    pad = "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 200)
    response = APIClient().post(
        "/api/auth/login", json.dumps({"email": "a@example.com", "password": "x", "pad": pad}), content_type="application/json"
    )
    assert_error_shape(response, 401, "invalid_credentials")


def test_huge_form_post_to_a_page_is_not_a_500():
    from django.test import Client

    body = "email=a%40example.com&password=x&pad=" + "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    response = Client().post("/login/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 413)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"])
def test_unsupported_media_type_is_415(content_type):
    response = APIClient().post("/api/auth/login", b"email=a", content_type=content_type)
    assert_error_shape(response, 415, "unsupported_media_type")


def test_form_encoded_login_works(user):
    response = APIClient().post(
        "/api/auth/login", f"email={user.email}&password={user.raw_password}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200, response.content


def test_wrong_method_is_405_json():
    response = APIClient().get("/api/auth/login")
    assert_error_shape(response, 405, "method_not_allowed")


def test_unknown_api_path_is_404_json():
    response = APIClient().get("/api/auth/nope")
    assert_error_shape(response, 404, "not_found")


@pytest.mark.parametrize("field", ["email", "password"])
def test_deeply_nested_values_are_400(field):
    nested = {"a": None}
    for _ in range(50):
        nested = {"a": nested}
    body = {"email": "a@example.com", "password": "x", field: nested}
    assert_error_shape(APIClient().post("/api/auth/login", body, format="json"), 400)
