"""CSRF: enforced for cookie-authenticated unsafe requests, not for Bearer, passed with X-CSRFToken."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.tokens import issue_pair

from .conftest import assert_error_shape, csrf_header

pytestmark = pytest.mark.django_db

ME = "/api/auth/me"


def test_cookie_auth_unsafe_without_token_is_403(cookie_client, user):
    client = cookie_client(user)
    response = client.patch(ME, {"display_name": "csrf"}, format="json")
    body = assert_error_shape(response, 403, "csrf_failed")
    assert "CSRF" in body["detail"]
    user.refresh_from_db()
    assert user.display_name == ""


def test_cookie_auth_unsafe_with_wrong_token_is_403(cookie_client, user):
    client = cookie_client(user)
    response = client.patch(ME, {"display_name": "csrf"}, format="json", HTTP_X_CSRFTOKEN="x" * 32)
    assert_error_shape(response, 403, "csrf_failed")


def test_cookie_auth_unsafe_with_header_passes(cookie_client, user):
    client = cookie_client(user)
    response = client.patch(ME, {"display_name": "ok"}, format="json", **csrf_header(client))
    assert response.status_code == 200, response.content
    assert response.json()["display_name"] == "ok"


def test_cookie_auth_safe_methods_need_no_token(cookie_client, user):
    client = cookie_client(user)
    assert client.get(ME).status_code == 200
    assert client.head(ME).status_code == 200
    assert client.options(ME).status_code == 200


def test_bearer_needs_no_csrf(user):
    client = APIClient(enforce_csrf_checks=True)
    response = client.patch(ME, {"display_name": "bearer"}, format="json", HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")
    assert response.status_code == 200, response.content


def test_bearer_needs_no_csrf_even_with_cookies_present(cookie_client, user):
    """A Bearer header wins: the request is not cookie-authenticated, so no CSRF check."""
    client = cookie_client(user)
    response = client.patch(ME, {"display_name": "both"}, format="json", HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")
    assert response.status_code == 200, response.content


def test_cross_origin_referer_is_refused_over_https(cookie_client, user):
    client = cookie_client(user)
    response = client.patch(
        ME, {"display_name": "x"}, format="json", secure=True, HTTP_REFERER="https://evil.example/", **csrf_header(client)
    )
    assert_error_shape(response, 403, "csrf_failed")


@override_settings(CSRF_TRUSTED_ORIGINS=["https://app.example"])
def test_trusted_origin_passes_over_https(cookie_client, user):
    client = cookie_client(user)
    response = client.patch(
        ME, {"display_name": "x"}, format="json", secure=True, HTTP_ORIGIN="https://app.example", **csrf_header(client)
    )
    assert response.status_code == 200, response.content


def test_page_form_post_without_token_is_403_html(cookie_client, user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.cookies = cookie_client(user).cookies
    response = client.post("/logout/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


# ----------------------------------------------------------------------------- login CSRF
@pytest.mark.parametrize("url", ["/api/auth/login", "/api/auth/register"])
def test_cross_site_form_cannot_log_a_browser_in(user, url):
    """A form on another site posting to the API would set the attacker's cookies in the victim's browser."""
    body = f"email={user.email}&password={user.raw_password}"
    response = APIClient().post(url, body, content_type="application/x-www-form-urlencoded", HTTP_ORIGIN="https://evil.example")
    assert_error_shape(response, 403, "origin_not_allowed")
    assert "access_token" not in response.cookies
    null_origin = APIClient().post(url, body, content_type="application/x-www-form-urlencoded", HTTP_ORIGIN="null")
    assert null_origin.status_code == 403


def test_same_site_and_originless_logins_work(user):
    body = {"email": user.email, "password": user.raw_password}
    assert APIClient().post("/api/auth/login", body, format="json", HTTP_ORIGIN="http://testserver").status_code == 200
    assert APIClient().post("/api/auth/login", body, format="json").status_code == 200  # non-browser clients


@pytest.mark.parametrize("origin", ["http://testserver:9999", "https://testserver", "http://testserver.evil.example"])
def test_another_port_or_scheme_of_our_host_is_another_site(user, origin):
    """The attack: login from http://127.0.0.1:9999 got 200 where Django's own CSRF check says 403."""
    body = {"email": user.email, "password": user.raw_password}
    response = APIClient().post("/api/auth/login", body, format="json", HTTP_ORIGIN=origin)
    assert_error_shape(response, 403, "origin_not_allowed")
    assert "access_token" not in response.cookies


@override_settings(CSRF_TRUSTED_ORIGINS=["https://*.example.net"])
def test_trusted_origin_patterns_work_as_in_djangos_csrf_check(user):
    body = {"email": user.email, "password": user.raw_password}
    assert APIClient().post("/api/auth/login", body, format="json", HTTP_ORIGIN="https://app.example.net").status_code == 200
    refused = APIClient().post("/api/auth/login", body, format="json", HTTP_ORIGIN="http://app.example.net")
    assert_error_shape(refused, 403, "origin_not_allowed")


@override_settings(ALLOWED_ORIGINS=["https://app.example"])
def test_allowed_origin_may_log_in(user):
    body = {"email": user.email, "password": user.raw_password}
    assert APIClient().post("/api/auth/login", body, format="json", HTTP_ORIGIN="https://app.example").status_code == 200
