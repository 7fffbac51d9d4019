"""Run ``sketchsite/settings.py`` afresh in this process with a chosen environment.

The module's namespace is returned as a dict; ``sys.modules`` and ``django.conf.settings`` are
untouched, and ``os.environ`` is restored (the settings module writes to it).
"""

import os
import runpy
from pathlib import Path

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "sketchsite" / "settings.py"

# Everything the settings module reads; cleared so that each load starts from nothing.
SETTING_NAMES = [
    "DATABASE_URL",
    "REDIS_URL",
    "JWT_SECRET_KEY",
    "JWT_ALGORITHM",
    "JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
    "JWT_REFRESH_TOKEN_EXPIRE_DAYS",
    "APP_NAME",
    "APP_VERSION",
    "DEBUG",
    "BASE_URL",
    "ALLOWED_ORIGINS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_BUCKET_NAME",
    "AWS_PRESIGNED_URL_EXPIRATION",
    "AWS_S3_ENDPOINT_URL",
    "TEMP_DIR",
    "MAX_FILE_SIZE",
    "ALLOWED_FILE_TYPES",
    "MAX_CONCURRENT_TASKS",
    "TASK_TIMEOUT",
    "DJANGO_SECRET_KEY",
    "ALLOWED_HOSTS",
    "VAR_DIR",
    "MEDIA_ROOT",
    "ENV_FILE",
    "LOG_LEVEL",
    "MAX_IMAGE_PIXELS",
    "NUM_PROXIES",
]


def load_settings(monkeypatch, tmp_path, **env) -> dict:
    saved = dict(os.environ)
    try:
        for name in SETTING_NAMES:
            os.environ.pop(name, None)
        os.environ["ENV_FILE"] = str(tmp_path / "no-such.env")
        os.environ["VAR_DIR"] = str(tmp_path / "var")
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        # A module name of its own (same package, for the relative imports) leaves sys.modules alone.
        return runpy.run_path(str(SETTINGS_FILE), run_name="sketchsite._settings_under_test")
    finally:
        os.environ.clear()
        os.environ.update(saved)
