"""Shared fixtures: users and clients, and the real processes of the production stack.

The pytest process itself runs on PostgreSQL + Redis (tests/settings.py) with local media.
Stack fixtures start real child processes (daphne, RQ workers, SeaweedFS) that use the same
test database, so tests that talk to them need committed data: ``transaction=True``.
"""

import io
import itertools
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT / "tests" / "photos"
ARTIFACTS = ROOT / "var" / "test-artifacts"
_counter = itertools.count()


# ----------------------------------------------------------------------------- data
@pytest.fixture(scope="session", autouse=True)
def _clean_redis():
    """Tests own Redis database 15; start from nothing."""
    import redis
    from django.conf import settings

    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.flushdb()
        client.close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()  # throttle counters must not leak between tests
    from sketches.storage import get_storage

    get_storage.cache_clear()
    yield


PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def make_user(db):
    from accounts.models import User

    def make(email=None, password=PASSWORD, role="user", **extra):
        email = email or f"user{next(_counter)}-{os.getpid()}@example.com"
        user = User.objects.create_user(email=email, password=password, role=role, **extra)
        user.raw_password = password
        return user

    return make


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def admin_user(make_user):
    return make_user(role="admin")


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def bearer(db):
    """An API client authenticated with ``Authorization: Bearer`` for the given user."""
    from rest_framework.test import APIClient

    from accounts.tokens import issue_pair

    def client_for(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")
        return client

    return client_for


# ----------------------------------------------------------------------------- images
def image_bytes(width=64, height=48, fmt="PNG", mode="RGB", color=(200, 120, 40), **save_args) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new(mode, (width, height), color if mode != "L" else 128)
    draw = ImageDraw.Draw(image)
    draw.rectangle([width // 4, height // 4, width * 3 // 4, height * 3 // 4], fill=(20, 40, 200) if mode == "RGB" else 20)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_args)
    return buffer.getvalue()


@pytest.fixture
def png_bytes():
    return image_bytes()


@pytest.fixture
def jpeg_bytes():
    return image_bytes(320, 240, "JPEG", quality=90)


@pytest.fixture(scope="session")
def photos_dir():
    return PHOTOS


# ----------------------------------------------------------------------------- processes
@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def test_database_url(django_db_setup, django_db_blocker):
    from django.db import connection

    with django_db_blocker.unblock():
        params = connection.settings_dict
        return f"postgresql://{params['USER'] or 'postgres'}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


@pytest.fixture(scope="session")
def stack_env(test_database_url, tmp_path_factory):
    """Environment for child processes: the test database, Redis db 15, their own media dir."""
    from django.conf import settings

    from tests.support.processes import base_env

    var_dir = tmp_path_factory.mktemp("stack-var")
    return base_env(
        DJANGO_SETTINGS_MODULE="sketchsite.settings",
        DATABASE_URL=test_database_url,
        REDIS_URL=settings.REDIS_URL,
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        JWT_SECRET_KEY=settings.JWT_SECRET_KEY,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        VAR_DIR=str(var_dir),
        TASK_TIMEOUT="60",
        SKETCH_STALE_AFTER="8",
        RECONCILE_INTERVAL="2",
        AWS_BUCKET_NAME=None,
    )


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    from scripts.seaweed import SeaweedServer

    server = SeaweedServer(str(tmp_path_factory.mktemp("seaweed"))).start()
    yield server
    server.stop()


@pytest.fixture
def logs_dir(tmp_path):
    path = tmp_path / "logs"
    path.mkdir()
    return path
