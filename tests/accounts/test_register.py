"""POST /api/auth/register: 201 with the user and a token, logged in by cookie; refusals in DRF's shape."""

from datetime import datetime

import pytest
from django.conf import settings

from accounts.models import User

from .conftest import STRONG_PASSWORD, assert_error_shape

pytestmark = pytest.mark.django_db

URL = "/api/auth/register"


def register(api, **fields):
    body = {"email": "new.person@example.com", "password": STRONG_PASSWORD, **fields}
    return api.post(URL, body, format="json")


def test_register_creates_user_and_logs_in(api):
    response = register(api, display_name="Newcomer")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["email"] == "new.person@example.com"
    assert body["user"]["display_name"] == "Newcomer"
    assert body["user"]["role"] == "user"
    assert set(body["user"]) == {"id", "email", "display_name", "role", "date_joined"}
    assert body["token_type"] == "bearer"
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert lifetime - 5 <= body["expires_in"] <= lifetime
    assert datetime.fromisoformat(body["expires_at"]).tzinfo is not None
    assert response.cookies["access_token"].value == body["access_token"]
    assert response.cookies["refresh_token"].value
    assert "csrftoken" in response.cookies
    user = User.objects.get(email="new.person@example.com")
    assert user.pk == body["user"]["id"] and user.check_password(STRONG_PASSWORD)
    assert "password" not in body["user"]
    # The token in the body works as a Bearer token.
    api.cookies.clear()
    me = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.status_code == 200 and me.json()["email"] == "new.person@example.com"


def test_register_stores_email_lower_case(api):
    response = register(api, email="  Foo.Bar@X.COM ")
    assert response.status_code == 201, response.content
    assert response.json()["user"]["email"] == "foo.bar@x.com"
    assert User.objects.filter(email="foo.bar@x.com").exists()


def test_duplicate_email_is_a_field_error(api, user):
    response = register(api, email=user.email)
    body = assert_error_shape(response, 400, "email_taken")
    assert "email" in body["errors"]
    assert "already exists" in body["errors"]["email"][0]
    assert "access_token" not in response.cookies


def test_duplicate_email_with_other_case_is_refused(api):
    assert register(api, email="Foo@X.com").status_code == 201
    api.cookies.clear()
    body = assert_error_shape(register(api, email="FOO@x.COM"), 400, "email_taken")
    assert "email" in body["errors"]
    assert User.objects.filter(email__iexact="foo@x.com").count() == 1


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("8401937562", "entirely numeric"),
        ("new.person@example.com", "too similar"),
    ],
)
def test_weak_password_is_refused_with_the_validator_message(api, password, fragment):
    response = register(api, password=password)
    body = assert_error_shape(response, 400, "weak_password")
    messages = " ".join(body["errors"]["password"])
    assert fragment in messages, messages
    assert not User.objects.filter(email="new.person@example.com").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": STRONG_PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "not-an-email", "password": STRONG_PASSWORD}, "email"),
        ({"email": ["a@example.com"], "password": STRONG_PASSWORD}, "email"),
        ({"email": "a@example.com", "password": {"x": 1}}, "password"),
        ({"email": "a@example.com", "password": STRONG_PASSWORD, "display_name": "x" * 81}, "display_name"),
        ({"email": "a" * 250 + "@example.com", "password": STRONG_PASSWORD}, "email"),
    ],
)
def test_invalid_fields_are_field_errors(api, body, field):
    response = api.post(URL, body, format="json")
    data = assert_error_shape(response, 400)
    assert field in data["errors"], data
    assert data["detail"].startswith(f"{field}:")
    assert User.objects.count() == 0


def test_register_ignores_role_from_the_client(api):
    response = register(api, role="admin", is_staff=True)
    assert response.status_code == 201
    user = User.objects.get(email="new.person@example.com")
    assert user.role == "user" and not user.is_staff and not user.is_superuser


def test_register_with_a_stale_cookie_still_works(api):
    api.cookies["access_token"] = "garbage"
    api.cookies["refresh_token"] = "garbage"
    assert register(api).status_code == 201
