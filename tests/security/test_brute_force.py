"""Login brute force (throttled: 429 with Retry-After) and user enumeration (same answer either way).

The rates are lowered for the test by patching the throttle classes; the cache is emptied
before every test (tests/conftest.py), so counters never leak.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import throttles

from .conftest import assert_json_error

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login"


@pytest.fixture
def rates(monkeypatch):
    def set_rates(login_ip="1000/min", login_email="1000/min", register_ip="1000/min", register_email="1000/min"):
        # SimpleRateThrottle reads a class attribute ``rate`` before the settings' rates.
        monkeypatch.setattr(throttles.LoginIPThrottle, "rate", login_ip, raising=False)
        monkeypatch.setattr(throttles.LoginIPEmailThrottle, "rate", login_email, raising=False)
        monkeypatch.setattr(throttles.RegisterIPThrottle, "rate", register_ip, raising=False)
        monkeypatch.setattr(throttles.RegisterEmailThrottle, "rate", register_email, raising=False)

    return set_rates


def api_login(email, password="wrong-password-123", ip="203.0.113.7", **headers):
    return APIClient().post(LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip, **headers)


def assert_throttled(response):
    body = assert_json_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 3600
    return body


def test_password_guessing_on_one_account_is_throttled(rates, user):
    rates(login_email="5/min")
    for _ in range(5):
        assert api_login(user.email).status_code == 401
    assert_throttled(api_login(user.email))
    # Other spellings of the same address are the same account.
    assert_throttled(api_login(f"  {user.email.upper()} "))
    # Another address is another guesser: the owner is never locked out by someone else's failures.
    assert api_login(user.email, password=user.raw_password, ip="198.51.100.1").status_code == 200


def test_throttled_login_refuses_even_the_right_password(rates, user):
    """Otherwise a throttled attacker would still learn when a guess is right."""
    rates(login_email="3/min")
    for _ in range(3):
        api_login(user.email)
    response = api_login(user.email, password=user.raw_password)
    assert_throttled(response)
    assert "access_token" not in response.cookies


def test_credential_stuffing_from_one_address_is_throttled(rates, db):
    rates(login_ip="5/min")
    for i in range(5):
        assert api_login(f"victim{i}@example.com").status_code == 401
    assert_throttled(api_login("victim99@example.com"))


def test_forged_x_forwarded_for_does_not_reset_the_ip_throttle(rates, db):
    rates(login_ip="5/min")
    for i in range(5):
        api_login(f"victim{i}@example.com")
    response = api_login("victim99@example.com", HTTP_X_FORWARDED_FOR="10.9.8.7")
    assert_throttled(response)


def test_login_page_is_throttled_too(rates, user):
    rates(login_email="3/min")
    client = Client()
    for _ in range(3):
        assert client.post("/login/", {"email": user.email, "password": "wrong-password-123"}).status_code == 400
    response = client.post("/login/", {"email": user.email, "password": user.raw_password})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "access_token" not in response.cookies


def test_registration_flood_is_throttled(rates, db):
    rates(register_ip="3/min")
    client = APIClient()
    for i in range(3):
        response = client.post(
            "/api/auth/register", {"email": f"flood{i}@example.com", "password": "violet-anchor-Plum-7391"}, format="json"
        )
        assert response.status_code == 201
    assert_throttled(
        client.post("/api/auth/register", {"email": "flood9@example.com", "password": "violet-anchor-Plum-7391"}, format="json")
    )


# ----------------------------------------------------------------------------- user enumeration
def test_unknown_email_and_wrong_password_answer_alike(rates, user):
    rates()
    unknown = api_login("nobody-here@example.com")
    wrong = api_login(user.email)
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.get("WWW-Authenticate") == wrong.get("WWW-Authenticate")
    assert set(unknown.cookies) == set(wrong.cookies)


def test_disabled_account_answers_like_a_wrong_password(rates, make_user):
    rates()
    disabled = make_user(is_active=False)
    assert api_login(disabled.email, password=disabled.raw_password).json() == api_login("nobody-here@example.com").json()


def test_login_page_answers_alike(rates, user):
    rates()

    def errors(email):
        response = Client().post("/login/", {"email": email, "password": "wrong-password-123"})
        html = response.content.decode()
        start = html.find('data-testid="form-error"')
        assert start >= 0, html
        return response.status_code, html[start : html.find("</div>", start)]

    assert errors("nobody-here@example.com") == errors(user.email)
