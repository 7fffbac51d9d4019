"""POST /api/auth/login."""

import pytest
from django.conf import settings

from .conftest import STRONG_PASSWORD, api_login, assert_error_shape

pytestmark = pytest.mark.django_db

URL = "/api/auth/login"


def test_login_returns_user_token_and_cookies(api, user):
    response = api_login(api, user.email, user.raw_password)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"] == {
        "id": user.pk,
        "email": user.email,
        "display_name": "",
        "role": "user",
        "date_joined": body["user"]["date_joined"],
    }
    assert body["access_token"] and body["token_type"] == "bearer"
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert lifetime - 5 <= body["expires_in"] <= lifetime
    assert body["expires_at"]
    assert response.cookies["access_token"].value == body["access_token"]
    assert response.cookies["refresh_token"].value not in ("", body["access_token"])
    assert "refresh_token" not in body  # the refresh token stays in its HttpOnly cookie
    user.refresh_from_db()
    assert user.last_login is not None


def test_login_email_is_case_insensitive(api, make_user):
    make_user(email="foo@x.com", password=STRONG_PASSWORD)
    response = api_login(api, "  FOO@X.com", STRONG_PASSWORD)
    assert response.status_code == 200, response.content
    assert response.json()["user"]["email"] == "foo@x.com"


def test_register_mixed_case_then_login_lower_case(api):
    assert api.post("/api/auth/register", {"email": "Foo@X.com", "password": STRONG_PASSWORD}, format="json").status_code == 201
    api.cookies.clear()
    assert api_login(api, "foo@x.com", STRONG_PASSWORD).status_code == 200


def test_wrong_password_is_401_without_cookies(api, user):
    response = api_login(api, user.email, "not-the-password")
    body = assert_error_shape(response, 401, "invalid_credentials")
    assert "incorrect" in body["detail"]
    assert response.has_header("WWW-Authenticate")
    assert "access_token" not in response.cookies


def test_unknown_email_is_the_same_401(api, db):
    body = assert_error_shape(api_login(api, "nobody@example.com", "whatever-pass"), 401, "invalid_credentials")
    assert "incorrect" in body["detail"]


def test_inactive_user_cannot_log_in(api, user):
    user.is_active = False
    user.save()
    assert_error_shape(api_login(api, user.email, user.raw_password), 401, "invalid_credentials")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": 42, "password": "x"}, "email"),
        ({"email": "a@example.com", "password": None}, "password"),
        ({"email": "a@example.com", "password": "x" * 129}, "password"),
    ],
)
def test_missing_or_wrong_type_fields(api, body, field):
    data = assert_error_shape(api.post(URL, body, format="json"), 400)
    assert field in data["errors"], data


def test_login_with_multipart_is_415(api, user):
    response = api.post(URL, {"email": user.email, "password": user.raw_password})  # the test client's default
    assert_error_shape(response, 415, "unsupported_media_type")
