"""POST /api/auth/password: change it, keep this device, log the others out."""

import pytest
from rest_framework.test import APIClient

from .conftest import STRONG_PASSWORD, api_login, assert_error_shape, csrf_header

pytestmark = pytest.mark.django_db

URL = "/api/auth/password"


def test_change_password_revokes_other_devices(cookie_client, user):
    this, other = cookie_client(user), cookie_client(user)
    response = this.post(
        URL, {"current_password": user.raw_password, "new_password": STRONG_PASSWORD}, format="json", **csrf_header(this)
    )
    assert response.status_code == 204, response.content
    # This device gets a fresh pair and stays logged in.
    assert response.cookies["access_token"].value and response.cookies["refresh_token"].value
    assert this.post("/api/auth/refresh", **csrf_header(this)).status_code == 200
    # The other device's refresh token was revoked.
    assert other.post("/api/auth/refresh", **csrf_header(other)).status_code == 401
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert api_login(APIClient(), user.email, user.raw_password).status_code == 401
    assert api_login(APIClient(), user.email, STRONG_PASSWORD).status_code == 200


def test_wrong_current_password(bearer, user):
    response = bearer(user).post(URL, {"current_password": "nope-nope", "new_password": STRONG_PASSWORD}, format="json")
    body = assert_error_shape(response, 400, "wrong_password")
    assert "current_password" in body["errors"]
    user.refresh_from_db()
    assert user.check_password(user.raw_password)


def test_weak_new_password(bearer, user):
    response = bearer(user).post(URL, {"current_password": user.raw_password, "new_password": "12345678"}, format="json")
    body = assert_error_shape(response, 400, "weak_password")
    assert any("common" in m or "numeric" in m for m in body["errors"]["new_password"])


def test_missing_fields(bearer, user):
    body = assert_error_shape(bearer(user).post(URL, {}, format="json"), 400)
    assert {"current_password", "new_password"} <= set(body["errors"])


def test_requires_authentication(db):
    assert_error_shape(APIClient().post(URL, {}, format="json"), 401, "not_authenticated")


def test_cookie_auth_needs_csrf(cookie_client, user):
    client = cookie_client(user)
    response = client.post(URL, {"current_password": user.raw_password, "new_password": STRONG_PASSWORD}, format="json")
    assert_error_shape(response, 403, "csrf_failed")
    user.refresh_from_db()
    assert user.check_password(user.raw_password)
