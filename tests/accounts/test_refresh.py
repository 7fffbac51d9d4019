"""POST /api/auth/refresh: rotation, blacklisting, reuse refusal; cookie (with CSRF) or body token."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tokens import issue_pair

from .conftest import assert_error_shape, csrf_header, make_jwt

pytestmark = pytest.mark.django_db

URL = "/api/auth/refresh"


def jti(raw):
    return RefreshToken(raw, verify=False)["jti"]


def test_refresh_by_cookie_rotates_both_cookies(cookie_client, user):
    client = cookie_client(user)
    old_access, old_refresh = client.cookies["access_token"].value, client.cookies["refresh_token"].value
    response = client.post(URL, **csrf_header(client))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["id"] == user.pk and body["expires_in"] > 0 and body["expires_at"]
    new_access, new_refresh = response.cookies["access_token"].value, response.cookies["refresh_token"].value
    assert new_access == body["access_token"]
    assert new_access != old_access and new_refresh != old_refresh
    assert BlacklistedToken.objects.filter(token__jti=jti(old_refresh)).exists()
    assert not BlacklistedToken.objects.filter(token__jti=jti(new_refresh)).exists()
    # The new access token works.
    assert client.get("/api/auth/me").json()["id"] == user.pk


def test_reusing_the_old_refresh_token_is_refused(cookie_client, user):
    client = cookie_client(user)
    old_refresh = client.cookies["refresh_token"].value
    assert client.post(URL, **csrf_header(client)).status_code == 200
    replay = APIClient()
    response = replay.post(URL, {"refresh": old_refresh}, format="json")
    body = assert_error_shape(response, 401, "token_not_valid")
    assert "blacklisted" in body["detail"].lower()
    assert response.has_header("WWW-Authenticate")
    # Moments after the rotation, the refusal leaves the cookies alone: it is most likely another
    # tab of the same browser, whose own response is setting the new cookies.
    assert "access_token" not in response.cookies and "refresh_token" not in response.cookies
    # Later, a replay is refused and the cookies of whoever sent it are cleared.
    BlacklistedToken.objects.filter(token__jti=jti(old_refresh)).update(blacklisted_at=timezone.now() - timedelta(minutes=2))
    response = replay.post(URL, {"refresh": old_refresh}, format="json")
    assert_error_shape(response, 401, "token_not_valid")
    assert response.cookies["access_token"].value == "" and response.cookies["refresh_token"].value == ""


def test_parallel_refresh_of_two_tabs_keeps_the_winners_cookies(cookie_client, user):
    """Two tabs refresh with the same cookie: one wins; the loser gets 401 but clears nothing."""
    tab_a = cookie_client(user)
    tab_b = APIClient(enforce_csrf_checks=True)
    for name in ("access_token", "refresh_token", "csrftoken"):
        tab_b.cookies[name] = tab_a.cookies[name].value
    won = tab_a.post(URL, **csrf_header(tab_a))
    lost = tab_b.post(URL, **csrf_header(tab_b))
    assert won.status_code == 200 and lost.status_code == 401
    assert "refresh_token" not in lost.cookies  # the browser keeps the winner's new cookies


def test_a_forged_token_never_counts_as_just_rotated(user):
    from accounts import tokens

    pair = issue_pair(user)
    tokens.rotate(pair.refresh)
    forged = make_jwt(
        user.pk, token_type="refresh", key="k" * 64, algorithm="HS512", jti=RefreshToken(pair.refresh, verify=False)["jti"]
    )
    with pytest.raises(tokens.InvalidRefreshToken) as refused:
        tokens.rotate(forged)
    assert refused.value.just_rotated is False
    with pytest.raises(tokens.InvalidRefreshToken) as refused:
        tokens.rotate(pair.refresh)
    assert refused.value.just_rotated is True


def test_refresh_by_body_needs_no_csrf(user):
    pair = issue_pair(user)
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(URL, {"refresh": pair.refresh}, format="json")
    assert response.status_code == 200, response.content
    # The older field name existing clients send works too.
    second = APIClient(enforce_csrf_checks=True).post(
        URL, {"refresh_token": response.cookies["refresh_token"].value}, format="json"
    )
    assert second.status_code == 200, second.content


def test_refresh_by_cookie_without_csrf_header_is_403(cookie_client, user):
    client = cookie_client(user)
    old = client.cookies["refresh_token"].value
    body = assert_error_shape(client.post(URL), 403, "csrf_failed")
    assert "X-CSRFToken" in body["detail"]
    assert not BlacklistedToken.objects.filter(token__jti=jti(old)).exists()


def test_refresh_without_any_token_is_401(db):
    body = assert_error_shape(APIClient().post(URL), 401, "token_not_valid")
    assert "No refresh token" in body["detail"]


@pytest.mark.parametrize(
    "make",
    [
        lambda user: "garbage",
        lambda user: issue_pair(user).access,  # an access token is not a refresh token
        lambda user: make_jwt(user.pk, token_type="refresh", exp_delta=-60),  # expired
        lambda user: make_jwt(user.pk, token_type="refresh"),  # well signed but never issued
        lambda user: make_jwt(user.pk, token_type="refresh", algorithm="HS512", key="k" * 64),
    ],
    ids=["garbage", "access-token", "expired", "never-issued", "wrong-key"],
)
def test_invalid_refresh_tokens_are_401(user, make):
    response = APIClient().post(URL, {"refresh": make(user)}, format="json")
    assert_error_shape(response, 401, "token_not_valid")


def test_refresh_of_a_disabled_account_is_401(user):
    pair = issue_pair(user)
    user.is_active = False
    user.save()
    body = assert_error_shape(APIClient().post(URL, {"refresh": pair.refresh}, format="json"), 401)
    assert "disabled" in body["detail"]


def test_refresh_only_once_even_when_raced(user):
    """The blacklist entry is the claim: of two uses of one token, exactly one wins."""
    from accounts import tokens

    pair = issue_pair(user)
    assert tokens.rotate(pair.refresh).refresh != pair.refresh
    with pytest.raises(tokens.InvalidRefreshToken):
        tokens.rotate(pair.refresh)
    assert OutstandingToken.objects.filter(user=user).count() == 2
