"""Start-up check: refresh rotation without the blacklist (or without rotation) refuses to start."""

import copy

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from accounts.checks import assert_jwt_configuration, check_jwt_configuration, jwt_configuration_problems


def jwt_with(**changes):
    value = copy.copy(settings.SIMPLE_JWT)
    value.update(changes)
    return value


def test_the_real_configuration_passes():
    assert jwt_configuration_problems() == []
    assert check_jwt_configuration(None) == []
    assert_jwt_configuration()


@pytest.mark.parametrize("setting", ["ROTATE_REFRESH_TOKENS", "BLACKLIST_AFTER_ROTATION"])
def test_rotation_or_blacklist_off_refuses(setting):
    with override_settings(SIMPLE_JWT=jwt_with(**{setting: False})):
        with pytest.raises(ImproperlyConfigured, match=setting):
            assert_jwt_configuration()
        errors = check_jwt_configuration(None)
    assert [e.id for e in errors] == ["accounts.E001"]
    assert setting in errors[0].msg


@pytest.fixture
def without_blacklist_app(monkeypatch):
    """As if token_blacklist were missing from INSTALLED_APPS (reloading the registry would trip
    the very check under test in AppConfig.ready)."""
    from accounts import checks

    real = checks.apps.is_installed
    monkeypatch.setattr(
        checks.apps, "is_installed", lambda name: name != "rest_framework_simplejwt.token_blacklist" and real(name)
    )


def test_missing_blacklist_app_refuses(without_blacklist_app):
    with pytest.raises(ImproperlyConfigured, match="token_blacklist"):
        assert_jwt_configuration()
    assert "token_blacklist" in check_jwt_configuration(None)[0].msg


def test_every_problem_is_named(without_blacklist_app):
    with override_settings(SIMPLE_JWT=jwt_with(ROTATE_REFRESH_TOKENS=False, BLACKLIST_AFTER_ROTATION=False)):
        assert len(jwt_configuration_problems()) == 3


def test_the_check_runs_when_the_app_loads():
    from django.apps import apps

    config = apps.get_app_config("accounts")
    with override_settings(SIMPLE_JWT=jwt_with(BLACKLIST_AFTER_ROTATION=False)), pytest.raises(ImproperlyConfigured):
        config.ready()
