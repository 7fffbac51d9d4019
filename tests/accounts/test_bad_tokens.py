"""Tampered, expired, wrongly signed and ``alg: none`` tokens: 401 with WWW-Authenticate, by header and by cookie."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.tokens import issue_pair

from .conftest import assert_error_shape, make_jwt, open_sid, tamper, unsigned_jwt

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")]

URL = "/api/auth/me"


def bad_tokens(user):
    good = issue_pair(user)
    return {
        "tampered": tamper(good.access),
        "expired": make_jwt(user.pk, exp_delta=-60),
        "wrong_key": make_jwt(user.pk, key="another-secret-key-that-is-long-enough-0123456789"),
        "wrong_algorithm": make_jwt(user.pk, algorithm="HS512"),
        "alg_none": unsigned_jwt(user.pk),
        "refresh_as_access": good.refresh,
        "garbage": "not.a.jwt",
        "no_user_claim": make_jwt(None),
        "unknown_user": make_jwt(987654321, sid=open_sid(user)),
        # Validly signed, but the user id is no number: a 500 before (ValueError in the user lookup).
        "user_id_word": make_jwt("abc", sid=open_sid(user)),
        "user_id_huge": make_jwt(10**30, sid=open_sid(user)),
        "user_id_list": make_jwt([user.pk], sid=open_sid(user)),
        "sid_missing": make_jwt(user.pk),
        "sid_garbage": make_jwt(user.pk, sid="../../etc"),
        "sid_of_another_user": make_jwt(user.pk, sid=open_sid(type(user).objects.create_user("sid-owner@example.com", "x"))),
    }


KINDS = [
    "tampered",
    "expired",
    "wrong_key",
    "wrong_algorithm",
    "alg_none",
    "refresh_as_access",
    "garbage",
    "no_user_claim",
    "unknown_user",
    "user_id_word",
    "user_id_huge",
    "user_id_list",
    "sid_missing",
    "sid_garbage",
    "sid_of_another_user",
]


def test_the_helpers_make_a_valid_token(user):
    client = APIClient()
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {make_jwt(user.pk, sid=open_sid(user))}")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("kind", KINDS)
def test_bad_bearer_token_is_401(user, kind):
    token = bad_tokens(user)[kind]
    response = APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    body = assert_error_shape(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "ErrorDetail" not in body["detail"]  # a sentence, not a repr
    assert body["code"] in {"token_not_valid", "user_not_found", "authentication_failed"}


@pytest.mark.parametrize("kind", KINDS)
def test_bad_cookie_token_is_401(user, kind):
    client = APIClient()
    client.cookies["access_token"] = bad_tokens(user)[kind]
    response = client.get(URL)
    assert_error_shape(response, 401)
    assert response.has_header("WWW-Authenticate")


def test_expired_token_says_it_is_expired(user):
    response = APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {make_jwt(user.pk, exp_delta=-60)}")
    body = assert_error_shape(response, 401, "token_not_valid")
    assert "expired" in body["detail"].lower()


def test_token_within_leeway_is_accepted(user):
    response = APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {make_jwt(user.pk, exp_delta=-1, sid=open_sid(user))}")
    assert response.status_code == 200


def test_non_bearer_scheme_is_401(user):
    body = assert_error_shape(APIClient().get(URL, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz"), 401)
    assert "Bearer" in body["detail"]


def test_bearer_without_token_is_401(user):
    response = APIClient().get(URL, HTTP_AUTHORIZATION="Bearer")
    body = assert_error_shape(response, 401)
    assert "ErrorDetail" not in body["detail"]


def test_bad_cookie_on_a_page_is_anonymous_not_an_error(user):
    client = Client()
    client.cookies["access_token"] = unsigned_jwt(user.pk)
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_bearer_header_wins_over_cookie(make_user):
    alice, bob = make_user(), make_user()
    client = APIClient()
    client.cookies["access_token"] = issue_pair(alice).access
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {issue_pair(bob).access}")
    assert response.json()["id"] == bob.pk
