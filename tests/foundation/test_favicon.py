"""/favicon.ico leads to a real icon instead of a 404."""

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

pytestmark = pytest.mark.django_db


def test_favicon_redirects_to_a_real_ico(client, settings):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.ico"
    assert "max-age=86400" in response["Cache-Control"]
    with Image.open(finders.find("img/favicon.ico")) as icon:
        assert icon.format == "ICO" and set(icon.info["sizes"]) >= {(16, 16), (32, 32)}


def test_favicon_refuses_writes(client):
    assert client.post("/favicon.ico").status_code == 405
