"""Brute-force brakes: login per IP and per IP + email, register per IP and per email → 429 with Retry-After."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import throttles

from .conftest import STRONG_PASSWORD, assert_error_shape

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):
    def set_rates(login_ip="1000/min", login_email="1000/min", register_ip="1000/min", register_email="1000/min"):
        monkeypatch.setattr(throttles.LoginIPThrottle, "rate", login_ip, raising=False)
        monkeypatch.setattr(throttles.LoginIPEmailThrottle, "rate", login_email, raising=False)
        monkeypatch.setattr(throttles.RegisterIPThrottle, "rate", register_ip, raising=False)
        monkeypatch.setattr(throttles.RegisterEmailThrottle, "rate", register_email, raising=False)

    return set_rates


def login(email, password="wrong-password", ip="10.0.0.1"):
    return APIClient().post("/api/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def assert_throttled(response):
    body = assert_error_shape(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    return body


def test_login_is_throttled_per_ip(rates, db):
    rates(login_ip="3/min")
    for i in range(3):
        assert login(f"victim{i}@example.com").status_code == 401
    assert_throttled(login("victim9@example.com"))
    # Another address is not affected.
    assert login("victim9@example.com", ip="10.0.0.2").status_code == 401


def test_login_is_throttled_per_address_and_email(rates, user):
    rates(login_email="2/min")
    assert login(user.email, ip="10.0.0.1").status_code == 401
    assert login(user.email.upper(), ip="10.0.0.1").status_code == 401  # same email, other case
    # Even the right password is refused from there now: the brake is on the guesser, not on the guess.
    assert_throttled(login(user.email, user.raw_password, ip="10.0.0.1"))
    assert login("someone.else@example.com", ip="10.0.0.1").status_code == 401


def test_failed_logins_elsewhere_do_not_lock_the_owner_out(rates, user):
    """The attack: ten wrong passwords from anywhere locked the real owner out for a minute."""
    rates(login_email="10/min")
    for _ in range(10):
        assert login(user.email, ip="203.0.113.66").status_code == 401
    assert_throttled(login(user.email, ip="203.0.113.66"))
    assert login(user.email, user.raw_password, ip="10.0.0.7").status_code == 200


def test_register_is_throttled_per_email(rates, make_user):
    """Register says when an email has an account; asking about one email again and again is braked."""
    rates(register_email="2/min")
    taken = make_user()
    for ip in ("10.0.0.1", "10.0.0.2"):
        response = APIClient().post(
            "/api/auth/register", {"email": taken.email, "password": STRONG_PASSWORD}, format="json", REMOTE_ADDR=ip
        )
        assert_error_shape(response, 400, "email_taken")
    response = APIClient().post(
        "/api/auth/register", {"email": taken.email.upper(), "password": STRONG_PASSWORD}, format="json", REMOTE_ADDR="10.0.0.3"
    )
    assert_throttled(response)
    fresh = {"email": "someone-new@example.com", "password": STRONG_PASSWORD}
    assert APIClient().post("/api/auth/register", fresh, format="json").status_code == 201


def test_register_is_throttled_per_ip(rates, db):
    rates(register_ip="2/min")
    client = APIClient()
    for i in range(2):
        response = client.post("/api/auth/register", {"email": f"n{i}@example.com", "password": STRONG_PASSWORD}, format="json")
        assert response.status_code == 201
        client.cookies.clear()
    response = client.post("/api/auth/register", {"email": "n9@example.com", "password": STRONG_PASSWORD}, format="json")
    assert_throttled(response)
    from accounts.models import User

    assert not User.objects.filter(email="n9@example.com").exists()


def test_login_page_is_throttled_too(rates, user):
    rates(login_ip="2/min")
    client = Client()
    for _ in range(2):
        assert client.post("/login/", {"email": user.email, "password": "wrong-password"}).status_code == 400
    response = client.post("/login/", {"email": user.email, "password": user.raw_password})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert b"Too many attempts" in response.content
    assert "access_token" not in response.cookies


def test_register_page_is_throttled_too(rates, db):
    rates(register_ip="1/min")
    client = Client()
    assert client.post("/register/", {"email": "p1@example.com", "password": STRONG_PASSWORD}).status_code == 302
    client.cookies.clear()
    response = client.post("/register/", {"email": "p2@example.com", "password": STRONG_PASSWORD})
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1


def test_default_rates_are_configured():
    from django.conf import settings

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert {"login_ip", "login_ip_email", "register_ip", "register_email"} <= set(rates)
    for rate in rates.values():
        count, period = throttles.LoginIPThrottle().parse_rate(rate)
        assert count >= 1 and period >= 1
