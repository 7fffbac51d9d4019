"""GET/PATCH /api/auth/me: the user, by Bearer or by cookie; 401 (not 403) without credentials."""

import pytest

from .conftest import assert_error_shape, csrf_header

pytestmark = pytest.mark.django_db

URL = "/api/auth/me"


def test_me_by_bearer(bearer, make_user):
    user = make_user(display_name="Ada")
    response = bearer(user).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user.pk and body["email"] == user.email
    assert body["display_name"] == "Ada" and body["role"] == "user" and body["date_joined"]
    assert set(body) == {"id", "email", "display_name", "role", "date_joined"}


def test_me_by_cookie(cookie_client, user):
    response = cookie_client(user).get(URL)
    assert response.status_code == 200 and response.json()["email"] == user.email


def test_me_shows_admin_role(bearer, admin_user):
    assert bearer(admin_user).get(URL).json()["role"] == "admin"


def test_me_without_credentials_is_401_with_www_authenticate(api, db):
    response = api.get(URL)
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_me_with_trailing_slash(bearer, user):
    assert bearer(user).get(URL + "/").json()["id"] == user.pk


def test_patch_display_name(cookie_client, user):
    client = cookie_client(user)
    response = client.patch(
        URL,
        {"display_name": "  New Name  ", "email": "hijack@example.com", "role": "admin"},
        format="json",
        **csrf_header(client),
    )
    assert response.status_code == 200, response.content
    assert response.json()["display_name"] == "New Name"
    user.refresh_from_db()
    assert user.display_name == "New Name" and user.email != "hijack@example.com" and user.role == "user"


def test_patch_display_name_too_long(bearer, user):
    body = assert_error_shape(bearer(user).patch(URL, {"display_name": "x" * 81}, format="json"), 400)
    assert "display_name" in body["errors"]


def test_inactive_user_token_is_refused(bearer, user):
    client = bearer(user)
    user.is_active = False
    user.save()
    response = client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_deleted_user_token_is_refused(bearer, user):
    client = bearer(user)
    user.delete()
    assert client.get(URL).status_code == 401
