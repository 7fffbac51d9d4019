"""Fixtures of the share-link tests: completed sketches whose files really are in (local) storage."""

import uuid
from pathlib import Path

import pytest

from accounts.tokens import issue_pair
from tests.conftest import image_bytes


@pytest.fixture(autouse=True)
def _plain_static(settings):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.SECURE_SSL_REDIRECT = False
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def make_sketch(db):
    from sketches.models import Sketch, Upload
    from sketches.storage import get_storage

    def make(owner, status="completed", original_name="Jane Doe at home.png"):
        storage = get_storage()
        upload_key = f"uploads/{owner.pk}/{uuid.uuid4().hex}.png"
        storage.write(upload_key, image_bytes(64, 48), "image/png")
        upload = Upload.objects.create(
            owner=owner, key=upload_key, original_name=original_name, content_type="image/png", status="confirmed", size=10
        )
        fields = {}
        if status == "completed":
            result_key = f"results/{owner.pk}/{uuid.uuid4().hex}.png"
            storage.write(result_key, image_bytes(64, 48, color=(240, 240, 240)), "image/png")
            fields = {"result_key": result_key, "result_width": 64, "result_height": 48, "result_size": 100}
        return Sketch.objects.create(
            owner=owner, upload=upload, status=status, style="ink", method="advanced", task_id=uuid.uuid4().hex, **fields
        )

    return make


@pytest.fixture
def logged_in():
    def login(client, user):
        client.cookies["access_token"] = issue_pair(user).access
        return client

    return login
