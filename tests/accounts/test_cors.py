"""CORS for the origins in ALLOWED_ORIGINS (with credentials), none for the others."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"])
def test_preflight_from_an_allowed_origin():
    response = Client().options(
        "/api/auth/login",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-csrftoken",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://app.example"
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "x-csrftoken" in response["Access-Control-Allow-Headers"].lower()


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"])
def test_no_cors_for_a_foreign_origin():
    response = Client().options("/api/auth/login", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in response
    response = Client().get("/api/sketch/styles/available", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response


def test_settings_feed_cors_and_csrf_from_allowed_origins(settings):
    assert settings.CORS_ALLOWED_ORIGINS == settings.ALLOWED_ORIGINS
    assert set(settings.ALLOWED_ORIGINS) <= set(settings.CSRF_TRUSTED_ORIGINS)
    assert settings.SITE_ORIGIN in settings.CSRF_TRUSTED_ORIGINS
