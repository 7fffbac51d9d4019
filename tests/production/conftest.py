"""Fixtures of the production tests: environments for child processes and small helpers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import BIN, ROOT


def long_secret(tag: str) -> str:
    return f"{tag}-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"


def production_env(**overrides) -> dict:
    """A clean production-like environment (no .env file, no inherited Django settings)."""
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "ENV_FILE": "/nonexistent/.env",
        "DEBUG": "false",
        "DJANGO_SECRET_KEY": long_secret("django"),
        "JWT_SECRET_KEY": long_secret("jwt"),
        "ALLOWED_HOSTS": "sketch.example.com",
        "BASE_URL": "https://sketch.example.com",
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update({k: str(v) for k, v in overrides.items() if v is not None})
    for key in [k for k, v in overrides.items() if v is None]:
        env.pop(key, None)
    return env


def run_manage(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def settings_value(env: dict, expression: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Evaluate ``expression`` (with ``settings`` in scope) in a fresh process under ``env``."""
    code = (
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'sketchsite.settings'); django.setup(); "
        "from django.conf import settings; import json; "
        f"print(json.dumps({expression}))"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """DEBUG is off under test and nothing ran collectstatic: serve static files without the manifest."""
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture
def var_dir(tmp_path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path
