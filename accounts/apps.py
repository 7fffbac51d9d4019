from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from .checks import assert_jwt_configuration

        assert_jwt_configuration()
