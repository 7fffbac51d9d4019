"""A throwaway production stack's footing, for the benches and the load test (not the test suite).

``scratch_database`` creates a PostgreSQL database and returns its URL with a function that
drops it; ``production_env`` is the environment every process of such a stack shares.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from tests.support.processes import base_env

SECRET = "scratch-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def scratch_database(admin_url: str, prefix: str) -> tuple[str, Callable[[], None]]:
    """``admin_url`` must be allowed to CREATE DATABASE; the name is ``<prefix>_<random>``."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def production_env(database_url: str, var_dir: Path, *, settings: str, pythonpath: str) -> dict:
    """DEBUG off on 127.0.0.1, local secrets, no S3 bucket yet (the stack sets its own)."""
    return base_env(
        DJANGO_SETTINGS_MODULE=settings,
        PYTHONPATH=pythonpath,
        DATABASE_URL=database_url,
        DJANGO_SECRET_KEY=SECRET,
        JWT_SECRET_KEY=SECRET + "-jwt",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        VAR_DIR=str(var_dir),
        AWS_BUCKET_NAME=None,
    )
