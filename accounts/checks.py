"""Start-up checks: refresh-token rotation is only safe with the blacklist in place."""

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def jwt_configuration_problems() -> list[str]:
    problems = []
    jwt = getattr(settings, "SIMPLE_JWT", {})
    if not apps.is_installed("rest_framework_simplejwt.token_blacklist"):
        problems.append(
            "rest_framework_simplejwt.token_blacklist must be in INSTALLED_APPS (refresh tokens are blacklisted on use and logout)."
        )
    if not jwt.get("ROTATE_REFRESH_TOKENS"):
        problems.append("SIMPLE_JWT['ROTATE_REFRESH_TOKENS'] must be True.")
    if not jwt.get("BLACKLIST_AFTER_ROTATION"):
        problems.append("SIMPLE_JWT['BLACKLIST_AFTER_ROTATION'] must be True.")
    return problems


@checks.register(checks.Tags.security)
def check_jwt_configuration(app_configs, **kwargs):
    return [checks.Error(problem, id="accounts.E001") for problem in jwt_configuration_problems()]


def assert_jwt_configuration() -> None:
    """daphne does not run system checks, so the same rule also stops the app from loading."""
    problems = jwt_configuration_problems()
    if problems:
        raise ImproperlyConfigured(" ".join(problems))
