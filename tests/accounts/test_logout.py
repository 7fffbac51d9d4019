"""POST /api/auth/logout (this device) and /api/auth/logout-all (every device)."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tokens import issue_pair

from .conftest import assert_error_shape, csrf_header

pytestmark = pytest.mark.django_db


def jti(raw):
    return RefreshToken(raw, verify=False)["jti"]


def assert_cleared(response):
    for name in ("access_token", "refresh_token"):
        morsel = response.cookies[name]
        assert morsel.value == "" and morsel["max-age"] == 0, (name, morsel.OutputString())


def test_logout_blacklists_and_clears_cookies(cookie_client, user):
    client = cookie_client(user)
    refresh = client.cookies["refresh_token"].value
    response = client.post("/api/auth/logout", **csrf_header(client))
    assert response.status_code == 204
    assert response.content == b""
    assert_cleared(response)
    assert BlacklistedToken.objects.filter(token__jti=jti(refresh)).exists()
    # The refresh token is dead even if a copy survives somewhere.
    reuse = APIClient().post("/api/auth/refresh", {"refresh": refresh}, format="json")
    assert reuse.status_code == 401
    # The client itself is logged out.
    assert client.get("/api/auth/me").status_code == 401


def test_logout_by_cookie_needs_csrf(cookie_client, user):
    client = cookie_client(user)
    refresh = client.cookies["refresh_token"].value
    assert_error_shape(client.post("/api/auth/logout"), 403, "csrf_failed")
    assert not BlacklistedToken.objects.filter(token__jti=jti(refresh)).exists()


def test_logout_with_body_token(user):
    pair = issue_pair(user)
    response = APIClient(enforce_csrf_checks=True).post("/api/auth/logout", {"refresh": pair.refresh}, format="json")
    assert response.status_code == 204
    assert BlacklistedToken.objects.filter(token__jti=jti(pair.refresh)).exists()


def test_logout_without_anything_is_still_204(db):
    response = APIClient().post("/api/auth/logout")
    assert response.status_code == 204
    assert_cleared(response)


def test_logout_with_a_dead_token_is_204(user):
    response = APIClient().post("/api/auth/logout", {"refresh": "garbage"}, format="json")
    assert response.status_code == 204


def test_logout_all_revokes_every_device(make_user, cookie_client, bearer):
    user = make_user()
    other = make_user()
    laptop, phone = cookie_client(user), cookie_client(user)
    bystander = issue_pair(other)
    response = laptop.post("/api/auth/logout-all", **csrf_header(laptop))
    assert response.status_code == 204
    assert_cleared(response)
    phone_refresh = phone.cookies["refresh_token"].value
    assert phone.post("/api/auth/refresh", **csrf_header(phone)).status_code == 401
    assert APIClient().post("/api/auth/refresh", {"refresh": phone_refresh}, format="json").status_code == 401
    # Someone else's session is untouched.
    assert APIClient().post("/api/auth/refresh", {"refresh": bystander.refresh}, format="json").status_code == 200


def test_logout_all_by_bearer_needs_no_csrf(bearer, user):
    pair = issue_pair(user)
    response = bearer(user).post("/api/auth/logout-all")
    assert response.status_code == 204
    assert BlacklistedToken.objects.filter(token__jti=jti(pair.refresh)).exists()


def test_logout_all_requires_authentication(db):
    response = APIClient().post("/api/auth/logout-all")
    assert_error_shape(response, 401, "not_authenticated")


def test_flush_auth_sessions_deletes_only_sessions_no_token_can_use(user):
    from datetime import timedelta

    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import AuthSession
    from accounts.tokens import issue_pair

    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    old = timezone.now() - lifetime - timedelta(minutes=1)
    fresh, refreshed_lately, expired = (issue_pair(user).session_id for _ in range(3))
    AuthSession.objects.filter(pk=refreshed_lately).update(created_at=old, refreshed_at=timezone.now())
    AuthSession.objects.filter(pk=expired).update(created_at=old)
    call_command("flush_auth_sessions")
    assert set(AuthSession.objects.filter(user=user).values_list("pk", flat=True)) == {fresh, refreshed_lately}
