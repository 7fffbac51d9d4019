"""One account created 336 sketches in about 3 minutes: only the concurrency cap slowed it.
``THROTTLE_SKETCH_CREATE`` now brakes creates per user, beside ``MAX_CONCURRENT_TASKS``."""

import pytest

from sketches.models import Sketch, Upload
from sketches.throttles import SketchCreateThrottle
from tests.conftest import image_bytes

from .conftest import assert_json_error, bearer_client, put_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def rate(monkeypatch):
    def set_rate(value):
        monkeypatch.setattr(SketchCreateThrottle, "rate", value, raising=False)

    return set_rate


def confirmed(user) -> Upload:
    data = image_bytes(64, 48, "PNG")
    upload = Upload.objects.create(
        owner=user, key=f"uploads/{user.pk}/rate.png", content_type="image/png", size=len(data), width=64, height=48
    )
    put_file(upload.key, data)
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.CONFIRMED)
    return upload


def create(client, upload):
    return client.post("/api/sketch/create", {"upload_id": str(upload.pk), "style": "ink"}, format="json")


def test_creates_past_the_rate_get_429_with_retry_after(user, make_user, rate, settings):
    rate("3/hour")
    settings.MAX_CONCURRENT_TASKS = 100  # the cap is not what stops it here
    upload, client = confirmed(user), bearer_client(user)
    assert [create(client, upload).status_code for _ in range(3)] == [202, 202, 202]
    refused = create(client, upload)
    body = assert_json_error(refused, 429, "too_many_sketches")
    assert "3/hour" in body["detail"]
    assert 3000 < int(refused["Retry-After"]) <= 3600
    assert Sketch.objects.filter(owner=user).count() == 3
    # Another account is not braked by this one.
    other = make_user()
    assert create(bearer_client(other), confirmed(other)).status_code == 202


def test_the_default_rate_is_120_an_hour(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["sketch_create"] == "120/hour"
    assert SketchCreateThrottle().rate == "120/hour"


def test_336_creates_in_a_row_stop_at_the_rate(user, settings):
    """The scanner's burst, replayed with the default rate and a cap that does not bite."""
    settings.MAX_CONCURRENT_TASKS = 1000
    settings.USER_STORAGE_QUOTA = 0
    upload, client = confirmed(user), bearer_client(user)
    statuses = [create(client, upload).status_code for _ in range(336)]
    assert statuses == [202] * 120 + [429] * 216


def test_creates_go_on_when_the_cache_is_down(user, rate, monkeypatch):
    """Redis holds the counters; a create while it is down is saved (the reconciler enqueues it later)."""
    from django.core.cache import cache
    from redis.exceptions import ConnectionError as RedisConnectionError

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    rate("1/hour")
    monkeypatch.setattr(cache, "get", unreachable)
    upload, client = confirmed(user), bearer_client(user)
    assert [create(client, upload).status_code for _ in range(2)] == [202, 202]
