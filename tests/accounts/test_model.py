"""The User: email is the login (case-insensitive, unique), role drives staff rights, createsuperuser works."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import IntegrityError

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_email_is_stored_lower_case_and_unique_ignoring_case():
    user = User.objects.create_user("Mixed.Case@Example.COM", "pw-0123456789")
    assert user.email == "mixed.case@example.com"
    with pytest.raises(IntegrityError):
        User.objects.create_user("MIXED.case@example.com", "pw-0123456789")


def test_database_constraint_is_case_insensitive():
    """Even a write that skips normalisation cannot create a duplicate."""
    User.objects.create_user("ci@example.com", "pw-0123456789")
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="CI@example.com")])


def test_authenticate_by_email_any_case():
    User.objects.create_user("auth@example.com", "pw-0123456789")
    assert authenticate(email="AUTH@Example.com", password="pw-0123456789") is not None
    assert authenticate(email="auth@example.com", password="wrong") is None


def test_role_drives_staff_and_superuser():
    user = User.objects.create_user("r@example.com", "pw")
    assert user.role == "user" and not user.is_staff and not user.is_superuser
    user.role = User.Role.ADMIN
    user.save(update_fields=["role"])
    user.refresh_from_db()
    assert user.is_staff and user.is_superuser and user.is_admin
    user.is_staff = True
    user.role = User.Role.USER
    user.save()
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser


def test_name_falls_back_on_the_email():
    assert User(email="jane@example.com").name == "jane"
    assert User(email="jane@example.com", display_name="Jane").name == "Jane"


def test_create_user_needs_an_email():
    with pytest.raises(ValueError):
        User.objects.create_user("", "pw")


def test_createsuperuser_command(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "admin-pass-0123456789")
    call_command("createsuperuser", "--noinput", "--email", "Boss@Example.com", verbosity=0)
    boss = User.objects.get(email="boss@example.com")
    assert boss.role == "admin" and boss.is_staff and boss.is_superuser
    assert boss.check_password("admin-pass-0123456789")
