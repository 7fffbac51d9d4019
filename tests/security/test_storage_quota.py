"""Per-account storage: ``USER_STORAGE_QUOTA`` over originals + results + thumbnails, and a limit
on uploads presigned but not confirmed (``MAX_PENDING_UPLOADS``).

The attack it answers: 200 presigns in 2.3 s all got 201 (20 MB each), and a 9.7 MB JPEG made a
74.7 MB PNG. Real views, services, job and local storage, in this process.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.tokens import issue_pair
from sketches import jobs, quota
from sketches.models import Sketch, Upload
from sketches.storage import get_storage
from tests.conftest import image_bytes

from .conftest import assert_json_error, bearer_client

pytestmark = pytest.mark.django_db

MB = 2**20


@pytest.fixture
def api(user):
    return bearer_client(user)


def presign(client, size, content_type="image/jpeg"):
    return client.post(
        "/api/upload/presigned-url", {"filename": "photo.jpg", "content_type": content_type, "size": size}, format="json"
    )


def upload_photo(client, data: bytes, content_type="image/jpeg") -> dict:
    """presign → POST the form to the local upload view → confirm, as a browser does."""
    form = presign(client, len(data), content_type)
    assert form.status_code == 201, form.content
    body = form.json()
    posted = Client().post(body["url"], {**body["fields"], "file": SimpleUploadedFile("photo", data, content_type)})
    assert posted.status_code == 204, posted.content
    confirmed = client.post("/api/upload/confirm", {"upload_id": body["upload_id"]}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    return confirmed.json()


def create(client, upload_id, **options):
    return client.post("/api/sketch/create", {"upload_id": str(upload_id), "style": "oil", "options": options}, format="json")


# ----------------------------------------------------------------------------- pending uploads
def test_200_presigns_get_10_forms_then_429_with_retry_after(api, user, settings):
    answers = [presign(api, 20 * MB) for _ in range(200)]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [201] * settings.MAX_PENDING_UPLOADS + [429] * (200 - settings.MAX_PENDING_UPLOADS)
    body = assert_json_error(answers[-1], 429, "too_many_pending_uploads")
    assert "confirm" in body["detail"] and f"limit is {settings.MAX_PENDING_UPLOADS}" in body["detail"]
    retry_after = int(answers[-1]["Retry-After"])
    assert 1 <= retry_after <= settings.AWS_PRESIGNED_URL_EXPIRATION + 1
    assert Upload.objects.filter(owner=user).count() == settings.MAX_PENDING_UPLOADS


def test_a_confirmed_upload_frees_its_slot(api, settings):
    settings.MAX_PENDING_UPLOADS = 1
    upload_photo(api, image_bytes(64, 48, "JPEG"))
    assert presign(api, 1000).status_code == 201
    assert_json_error(presign(api, 1000), 429, "too_many_pending_uploads")


def test_an_expired_form_no_longer_counts_as_pending(api, user, settings):
    settings.MAX_PENDING_UPLOADS = 1
    assert presign(api, 1000).status_code == 201
    assert_json_error(presign(api, 1000), 429, "too_many_pending_uploads")
    expired = timezone.now() - timedelta(seconds=settings.AWS_PRESIGNED_URL_EXPIRATION + 1)
    Upload.objects.filter(owner=user).update(created_at=expired)
    assert presign(api, 1000).status_code == 201


def test_the_pending_limit_is_per_user(api, make_user, settings):
    settings.MAX_PENDING_UPLOADS = 1
    assert presign(api, 1000).status_code == 201
    assert presign(bearer_client(make_user()), 1000).status_code == 201


# ----------------------------------------------------------------------------- the quota at presign
def test_presign_past_the_quota_is_409_and_says_what_to_delete(api, user, settings):
    settings.USER_STORAGE_QUOTA = 50 * MB
    assert presign(api, 20 * MB).status_code == 201
    assert presign(api, 20 * MB).status_code == 201  # 40 MB reserved by the two forms
    body = assert_json_error(presign(api, 20 * MB), 409, "storage_quota_exceeded")
    assert "20.0 MB" in body["detail"] and "10.0 MB" in body["detail"] and "50.0 MB" in body["detail"]
    assert "Delete sketches" in body["detail"]
    assert presign(api, 10 * MB).status_code == 201  # what is left still fits
    assert quota.usage(user).pending == 50 * MB


def test_the_form_accepts_no_more_than_the_declared_size(api):
    data = image_bytes(64, 48, "JPEG")
    body = presign(api, len(data) - 1).json()
    posted = Client().post(body["url"], {**body["fields"], "file": SimpleUploadedFile("photo", data, "image/jpeg")})
    assert posted.status_code == 400
    assert b"EntityTooLarge" in posted.content


def test_confirm_rejects_an_object_larger_than_declared(api, user):
    data = image_bytes(64, 48, "JPEG")
    body = presign(api, len(data) - 1).json()
    get_storage().write(body["key"], data, "image/jpeg")  # e.g. written around the form
    refused = api.post("/api/upload/confirm", {"upload_id": body["upload_id"]}, format="json")
    detail = assert_json_error(refused, 400, "file_too_large")["detail"]
    assert "declared" in detail
    assert Upload.objects.get(pk=body["upload_id"]).status == "rejected"
    assert quota.usage(user).used == 0


# ----------------------------------------------------------------------------- the quota at create
def test_a_sketch_that_could_overflow_is_refused_at_create(api, user, settings):
    photo = upload_photo(api, image_bytes(1000, 800, "JPEG", quality=80))
    allowance = quota.result_allowance(1000, 800)
    settings.USER_STORAGE_QUOTA = photo["size"] + allowance - 1
    body = assert_json_error(create(api, photo["id"]), 409, "storage_quota_exceeded")
    assert "1000x800" in body["detail"] and "Delete sketches" in body["detail"]
    assert not Sketch.objects.filter(owner=user).exists()
    settings.USER_STORAGE_QUOTA = photo["size"] + allowance
    assert create(api, photo["id"]).status_code == 202
    usage = quota.usage(user)
    assert (usage.originals, usage.reserved, usage.used) == (photo["size"], allowance, settings.USER_STORAGE_QUOTA)
    # The reservation holds: a second sketch of the same photo does not fit while the first runs.
    assert_json_error(create(api, photo["id"]), 409, "storage_quota_exceeded")


def test_the_job_records_result_and_thumbnail_sizes_and_they_count(api, user, monkeypatch):
    monkeypatch.setattr(jobs, "close_old_connections", lambda: None)  # inside the test's transaction
    photo = upload_photo(api, image_bytes(900, 700, "JPEG", quality=85))
    sketch = create(api, photo["id"]).json()
    assert jobs.run_sketch(sketch["id"]) == "completed"
    done = Sketch.objects.get(pk=sketch["id"])
    storage = get_storage()
    assert done.result_size == storage.head(done.result_key).size > 0
    assert done.thumbnail_size == storage.head(done.thumbnail_key).size > 0
    assert done.result_size + done.thumbnail_size <= quota.result_allowance(900, 700)
    usage = quota.usage(user)
    assert (usage.originals, usage.results, usage.reserved) == (photo["size"], done.result_size + done.thumbnail_size, 0)


def test_deleting_a_sketch_gives_the_room_back(api, user, settings, monkeypatch):
    monkeypatch.setattr(jobs, "close_old_connections", lambda: None)
    photo = upload_photo(api, image_bytes(400, 300, "JPEG"))
    sketch = create(api, photo["id"]).json()
    assert jobs.run_sketch(sketch["id"]) == "completed"
    settings.USER_STORAGE_QUOTA = quota.usage(user).used
    assert_json_error(presign(api, 1000), 409, "storage_quota_exceeded")
    assert api.delete(f"/api/sketch/{sketch['id']}").status_code == 204
    assert quota.usage(user).used == 0
    assert presign(api, 1000).status_code == 201


def test_no_quota_when_set_to_zero(api, settings):
    settings.USER_STORAGE_QUOTA = 0
    settings.MAX_PENDING_UPLOADS = 100
    assert all(presign(api, 20 * MB).status_code == 201 for _ in range(5))
    assert api.get("/api/upload/usage").json()["quota"] is None


# ----------------------------------------------------------------------------- where the user sees it
def test_usage_api(api, user, settings):
    settings.USER_STORAGE_QUOTA = 100 * MB
    photo = upload_photo(api, image_bytes(64, 48, "JPEG"))
    assert presign(api, 5 * MB).status_code == 201
    response = api.get("/api/upload/usage")
    assert response.status_code == 200
    assert response.json() == {
        "used": photo["size"] + 5 * MB,
        "quota": 100 * MB,
        "free": 100 * MB - photo["size"] - 5 * MB,
        "originals": photo["size"],
        "pending": 5 * MB,
        "results": 0,
        "reserved": 0,
    }


def test_usage_api_needs_a_login(db):
    assert_json_error(Client().get("/api/upload/usage"), 401)


def test_the_account_page_shows_usage(user, settings):
    settings.USER_STORAGE_QUOTA = 2 * 2**30
    Upload.objects.create(
        owner=user, key=f"uploads/{user.pk}/a.jpg", content_type="image/jpeg", size=300 * MB, status="confirmed"
    )
    client = Client()
    client.cookies["access_token"] = issue_pair(user).access
    page = client.get("/account/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="storage-used">300.0\xa0MB of 2.0\xa0GB</dd>' in html
    assert 'value="15"' in html  # the progress bar: 300 MB of 2 GB
    assert "1.7\xa0GB free" in html
