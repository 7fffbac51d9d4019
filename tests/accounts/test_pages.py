"""The auth pages: forms that set the same cookies as the API, safe redirects, silent refresh, admin."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tokens import issue_pair

from .conftest import STRONG_PASSWORD, make_jwt

pytestmark = pytest.mark.django_db


def logged_in_client(user, *, access=None):
    client = Client()
    pair = issue_pair(user)
    client.cookies["access_token"] = access if access is not None else pair.access
    client.cookies["refresh_token"] = pair.refresh
    return client, pair


# ----------------------------------------------------------------------------- login
def test_login_page_renders_a_form_with_csrf():
    response = Client().get("/login/?next=/sketches/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html and 'name="email"' in html and 'name="password"' in html
    assert 'name="next" value="/sketches/"' in html


def test_login_form_sets_cookies_and_redirects_to_next(user):
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/login/", {"email": user.email.upper(), "password": user.raw_password, "next": "/sketches/", "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 302 and response["Location"] == "/sketches/"
    for name in ("access_token", "refresh_token"):
        assert response.cookies[name].value and response.cookies[name]["httponly"]
    # The cookies log the pages in.
    assert client.get("/account/").status_code == 200


def test_login_form_without_csrf_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"email": user.email, "password": user.raw_password})
    assert response.status_code == 403
    assert "access_token" not in response.cookies


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "\\\\evil.example",
    ],
)
def test_open_redirect_goes_home(user, target):
    response = Client().post(f"/login/?next={target}", {"email": user.email, "password": user.raw_password})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_next_from_the_form_field_is_checked_too(user):
    response = Client().post("/login/", {"email": user.email, "password": user.raw_password, "next": "https://evil.example"})
    assert response["Location"] == "/"


def test_wrong_password_rerenders_the_form_with_an_error(user):
    response = Client().post("/login/", {"email": user.email, "password": "wrong-password"})
    assert response.status_code == 400
    assert b"incorrect" in response.content
    assert "access_token" not in response.cookies


def test_logged_in_user_visiting_login_is_sent_on(user):
    client, _ = logged_in_client(user)
    response = client.get("/login/?next=/sketches/")
    assert response.status_code == 302 and response["Location"] == "/sketches/"


# ----------------------------------------------------------------------------- register
def test_register_form_creates_the_user_and_logs_in():
    client = Client()
    response = client.post(
        "/register/?next=/sketches/", {"email": "Page.User@Example.com", "password": STRONG_PASSWORD, "display_name": "Pat"}
    )
    assert response.status_code == 302 and response["Location"] == "/sketches/"
    user = User.objects.get(email="page.user@example.com")
    assert user.display_name == "Pat"
    assert response.cookies["access_token"].value
    assert client.get("/account/").status_code == 200


def test_register_form_shows_validator_and_duplicate_errors(user):
    response = Client().post("/register/", {"email": "weak@example.com", "password": "123"})
    assert response.status_code == 400
    assert b"too short" in response.content
    response = Client().post("/register/", {"email": user.email.upper(), "password": STRONG_PASSWORD})
    assert response.status_code == 400
    assert b"already exists" in response.content
    assert User.objects.filter(email__iexact=user.email).count() == 1


def test_register_open_redirect_goes_home():
    response = Client().post("/register/?next=https://evil.example", {"email": "r@example.com", "password": STRONG_PASSWORD})
    assert response["Location"] == "/"


# ----------------------------------------------------------------------------- logout
def test_logout_is_post_only(user):
    client, _ = logged_in_client(user)
    assert client.get("/logout/").status_code == 405
    assert client.get("/account/").status_code == 200  # still logged in


def test_logout_blacklists_and_clears(user):
    client, pair = logged_in_client(user)
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert response.cookies["access_token"].value == "" and response.cookies["refresh_token"].value == ""
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(pair.refresh, verify=False)["jti"]).exists()
    assert client.get("/account/").status_code == 302


def test_logout_needs_csrf(user):
    client = Client(enforce_csrf_checks=True)
    pair = issue_pair(user)
    client.cookies["access_token"], client.cookies["refresh_token"] = pair.access, pair.refresh
    assert client.post("/logout/").status_code == 403
    assert not BlacklistedToken.objects.exists()


# ----------------------------------------------------------------------------- account and silent refresh
def test_account_requires_login(db):
    response = Client().get("/account/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/account/"


def test_account_page_shows_the_user(make_user):
    user = make_user(display_name="Grace Hopper")
    client, _ = logged_in_client(user)
    response = client.get("/account/")
    assert response.status_code == 200
    assert b"Grace Hopper" in response.content


def test_expired_access_cookie_is_silently_refreshed(user):
    client, pair = logged_in_client(user, access=make_jwt(user.pk, exp_delta=-120))
    response = client.get("/account/")
    assert response.status_code == 200, response.get("Location")
    new_access, new_refresh = response.cookies["access_token"].value, response.cookies["refresh_token"].value
    assert new_access and new_refresh and new_refresh != pair.refresh
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(pair.refresh, verify=False)["jti"]).exists()
    # The next navigation uses the new access token without another rotation.
    again = client.get("/account/")
    assert again.status_code == 200 and "refresh_token" not in again.cookies


def test_missing_access_cookie_is_silently_refreshed(user):
    client = Client()
    client.cookies["refresh_token"] = issue_pair(user).refresh
    response = client.get("/account/")
    assert response.status_code == 200
    assert response.cookies["access_token"].value


def test_dead_refresh_cookie_leads_to_login_and_is_cleared(user):
    client, pair = logged_in_client(user, access="expired-garbage")
    RefreshToken(pair.refresh).blacklist()
    BlacklistedToken.objects.update(blacklisted_at=timezone.now() - timedelta(minutes=5))  # revoked a while ago
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert response.cookies["refresh_token"].value == ""


def test_parallel_navigations_do_not_log_the_user_out(user):
    """Two tabs navigate with the same expired access cookie: the second must not clear the
    cookies the first one's response is setting."""
    expired = make_jwt(user.pk, exp_delta=-120)
    tab_a, pair = logged_in_client(user, access=expired)
    tab_b = Client()
    tab_b.cookies["access_token"], tab_b.cookies["refresh_token"] = expired, pair.refresh
    assert tab_a.get("/account/").status_code == 200
    late = tab_b.get("/account/")
    assert "access_token" not in late.cookies and "refresh_token" not in late.cookies
    # Following the login redirect with the winner's cookies lands back on the page.
    tab_b.cookies = tab_a.cookies
    assert tab_b.get("/login/?next=/account/")["Location"] == "/account/"


@pytest.mark.parametrize("path", ["/files/uploads/1/x.png?token=abc", "/health", "/static/css/site.css"])
def test_signed_files_health_and_static_do_not_rotate(user, path):
    client, pair = logged_in_client(user, access=make_jwt(user.pk, exp_delta=-120))
    response = client.get(path)
    assert "refresh_token" not in response.cookies
    assert not BlacklistedToken.objects.exists()


def test_api_requests_are_not_silently_refreshed(user):
    client, pair = logged_in_client(user, access=make_jwt(user.pk, exp_delta=-120))
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert "refresh_token" not in response.cookies
    assert not BlacklistedToken.objects.exists()


def test_profile_form_saves_display_name(user):
    client, _ = logged_in_client(user)
    response = client.post("/account/", {"action": "profile", "display_name": "  Changed  "})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Changed"


def test_password_form_keeps_this_device_and_revokes_others(user):
    client, _ = logged_in_client(user)
    _, other = logged_in_client(user)
    response = client.post(
        "/account/", {"action": "password", "current_password": user.raw_password, "new_password": STRONG_PASSWORD}
    )
    assert response.status_code == 302
    assert response.cookies["refresh_token"].value
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(other.refresh, verify=False)["jti"]).exists()
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_logout_everywhere_form(user):
    client, pair = logged_in_client(user)
    _, other = logged_in_client(user)
    response = client.post("/account/", {"action": "logout_all"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    for token in (pair.refresh, other.refresh):
        assert BlacklistedToken.objects.filter(token__jti=RefreshToken(token, verify=False)["jti"]).exists()


# ----------------------------------------------------------------------------- admin
def test_admin_is_reachable_for_an_admin_with_the_jwt_cookie(admin_user):
    client, _ = logged_in_client(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b'href="/admin/accounts/user/"' in response.content  # the index, with the users' list
    assert client.get("/admin/accounts/user/").status_code == 200


def test_admin_is_refused_to_a_normal_user_without_a_redirect_loop(user):
    client, _ = logged_in_client(user)
    response = client.get("/admin/", follow=True)
    assert len(response.redirect_chain) < 5, response.redirect_chain
    assert response.status_code == 403


def test_admin_sends_anonymous_users_to_the_site_login(db):
    response = Client().get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/?next=")
    assert response.status_code == 200 and b'name="password"' in response.content


def test_base_template_shows_the_user_name(make_user):
    user = make_user(display_name="Navi Gator")
    client, _ = logged_in_client(user)
    assert b"Navi Gator" in client.get("/account/").content
