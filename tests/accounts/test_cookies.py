"""The auth cookies: HttpOnly, SameSite=Lax, Secure outside DEBUG, expiring with their tokens."""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from accounts import tokens

from .conftest import api_login

pytestmark = pytest.mark.django_db


def test_settings_under_test_are_production_like():
    assert settings.DEBUG is False
    assert settings.JWT_COOKIE_SECURE is True


def test_login_cookie_flags(api, user):
    response = api_login(api, user.email, user.raw_password)
    pair_access_exp = datetime.fromisoformat(response.json()["expires_at"])
    for name in ("access_token", "refresh_token"):
        morsel = response.cookies[name]
        assert morsel["httponly"] is True, name
        assert morsel["samesite"] == "Lax", name
        assert morsel["secure"] is True, name
    access, refresh = response.cookies["access_token"], response.cookies["refresh_token"]
    assert access["path"] == "/"
    assert refresh["path"] == settings.JWT_REFRESH_COOKIE_PATH
    access_expires = parsedate_to_datetime(access["expires"])
    assert abs((access_expires - pair_access_exp).total_seconds()) <= 1
    refresh_expires = parsedate_to_datetime(refresh["expires"])
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    assert abs((refresh_expires - datetime.now(UTC) - lifetime).total_seconds()) < 10
    # The CSRF cookie is readable by the pages' scripts but still Secure.
    csrf = response.cookies["csrftoken"]
    assert not csrf["httponly"] and csrf["secure"] is True and csrf["samesite"] == "Lax"


def test_refresh_sets_the_same_flags(cookie_client, user):
    client = cookie_client(user)
    response = client.post("/api/auth/refresh", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    for name in ("access_token", "refresh_token"):
        assert (
            response.cookies[name]["httponly"]
            and response.cookies[name]["samesite"] == "Lax"
            and response.cookies[name]["secure"]
        )


def test_logout_clears_both_cookies_on_their_paths(cookie_client, user):
    client = cookie_client(user)
    response = client.post("/api/auth/logout", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 204
    assert response.cookies["access_token"]["path"] == "/"
    assert response.cookies["refresh_token"]["path"] == settings.JWT_REFRESH_COOKIE_PATH
    for name in ("access_token", "refresh_token"):
        morsel = response.cookies[name]
        assert morsel.value == "" and morsel["max-age"] == 0
        assert parsedate_to_datetime(morsel["expires"]).year == 1970
        assert morsel["samesite"] == "Lax"


def test_cookies_are_not_secure_in_debug(user):
    from django.http import HttpResponse

    with override_settings(JWT_COOKIE_SECURE=False):
        response = HttpResponse()
        tokens.set_auth_cookies(response, tokens.issue_pair(user))
    assert response.cookies["access_token"]["secure"] == ""
    assert response.cookies["access_token"]["httponly"] is True


def test_debug_setting_drives_secure_flags(monkeypatch, tmp_path):
    """settings.py: Secure cookies follow DEBUG."""
    from tests.foundation.settings_loader import load_settings

    prod = load_settings(
        monkeypatch, tmp_path, DEBUG="false", DJANGO_SECRET_KEY="s" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"
    )
    dev = load_settings(monkeypatch, tmp_path, DEBUG="true")
    assert prod["JWT_COOKIE_SECURE"] and prod["CSRF_COOKIE_SECURE"] and prod["SESSION_COOKIE_SECURE"]
    assert not dev["JWT_COOKIE_SECURE"] and not dev["CSRF_COOKIE_SECURE"]
    assert prod["JWT_COOKIE_SAMESITE"] == dev["JWT_COOKIE_SAMESITE"] == "Lax"


def test_cookie_only_client_can_read_me_without_the_body_token(user):
    client = APIClient()
    api_login(client, user.email, user.raw_password)
    assert client.get("/api/auth/me").json()["id"] == user.pk
