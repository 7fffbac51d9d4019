from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
        from .checks import assert_jwt_configuration

        assert_jwt_configuration()
