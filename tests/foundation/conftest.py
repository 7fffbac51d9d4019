"""Fixtures of the foundation tests: a daphne on a real socket, on the test database and Redis."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _served_like_behind_the_proxy(settings):
    """DEBUG is off under test. Pages would need collectstatic's manifest: serve static plainly.
    The test client speaks plain HTTP where production sits behind a TLS proxy: no HTTPS redirect."""
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.SECURE_SSL_REDIRECT = False
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one


class Server:
    def __init__(self, managed, port):
        self.managed, self.port = managed, port
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}/ws"
        self.origin = f"http://127.0.0.1:{port}"

    def log(self) -> str:
        return self.managed.output()


@pytest.fixture(scope="session")
def web(stack_env, tmp_path_factory):
    """daphne as deployed (-v 0), production settings, app logging at DEBUG so that a leak would show."""
    from tests.support.processes import daphne, free_port

    port = free_port()
    env = {
        **stack_env,
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on the loopback; production sits behind TLS
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": "text",
        "BASE_URL": f"http://127.0.0.1:{port}",
    }
    managed, port = daphne(env, tmp_path_factory.mktemp("daphne-logs"), port=port)
    yield Server(managed, port)
    managed.stop()
