"""Replaying an upload form: after confirm, after delete, twice at once; and what the job and the sweep do about it.

A presigned form stays valid for its whole expiry. The local upload view takes a post only while
the upload is pending and nothing is stored yet (409 otherwise: the form is genuine, so not 403,
but the upload takes no more files). S3 cannot refuse a replay of its presigned POST, so the job
compares the object's size and ETag with what confirm recorded and fails with a reason. Objects
no row points to are removed by the sweep, on both backends.
"""

import hashlib
import uuid
from datetime import timedelta

import pytest
import requests

from sketches import jobs, services, storage
from sketches.models import Sketch, Upload
from sketches.storage import get_storage
from tests.conftest import image_bytes
from tests.support.s3 import seaweed_storage

from .conftest import bearer_client
from .test_upload_policy import post_local, stored_files

pytestmark = pytest.mark.django_db

HTML = b"<html><script>alert(document.cookie)</script></html>" * 100
CLOSED = "This upload form has already been used{why}; ask for a new one (POST /api/upload/presigned-url)."
SOURCE_CHANGED = "The original photo was changed in storage after it was confirmed; upload it again."


def s3_error(response) -> tuple[int, str, str]:
    import re

    text = response.content.decode()
    code = re.search(r"<Code>(.*?)</Code>", text).group(1)
    message = re.search(r"<Message>(.*?)</Message>", text).group(1)
    return response.status_code, code, message


@pytest.fixture
def uploaded(client, user):
    """A PNG posted through the local form; returns (api client, presign answer, bytes)."""

    def make(confirm=True):
        api = bearer_client(user)
        png = image_bytes(320, 240)
        form = api.post(
            "/api/upload/presigned-url", {"filename": "me.png", "content_type": "image/png", "size": len(png)}, format="json"
        ).json()
        assert post_local(client, form["fields"], data=png).status_code == 204
        if confirm:
            response = api.post("/api/upload/confirm", {"upload_id": form["upload_id"]}, format="json")
            assert response.status_code == 200, response.content
        return api, form, png

    return make


def read(key: str) -> bytes:
    return get_storage().read(key)


def test_replay_after_confirm_is_409_and_the_photo_stays(client, uploaded, settings):
    _, form, png = uploaded()
    response = post_local(client, form["fields"], data=HTML)
    assert s3_error(response) == (409, "UploadClosed", CLOSED.format(why=" and its upload is confirmed"))
    assert read(form["key"]) == png
    assert stored_files(settings) == [form["key"]]


def test_a_second_post_before_confirm_is_409_and_the_first_file_stays(client, uploaded):
    _, form, png = uploaded(confirm=False)
    response = post_local(client, form["fields"], data=HTML)
    assert s3_error(response) == (409, "UploadClosed", CLOSED.format(why=": a file was already sent with it"))
    assert read(form["key"]) == png


def test_replay_after_delete_is_409_and_writes_nothing(client, uploaded, settings):
    api, form, _ = uploaded()
    sketch = api.post("/api/sketch/create", {"upload_id": form["upload_id"], "style": "ink", "method": "basic"}, format="json")
    assert sketch.status_code == 202, sketch.content
    assert api.delete(f"/api/sketch/{sketch.json()['id']}").status_code == 204
    assert stored_files(settings) == [] and not Upload.objects.filter(key=form["key"]).exists()
    response = post_local(client, form["fields"], data=b"\x89PNG\r\n\x1a\n" + b"x" * 5_000_000)
    assert s3_error(response) == (409, "UploadClosed", CLOSED.format(why=" and its upload no longer exists"))
    assert stored_files(settings) == []


def test_replay_after_a_rejection_is_409(client, user, settings):
    api = bearer_client(user)
    form = api.post(
        "/api/upload/presigned-url", {"filename": "me.png", "content_type": "image/png", "size": len(HTML)}, format="json"
    ).json()
    assert post_local(client, form["fields"], data=HTML).status_code == 204
    assert api.post("/api/upload/confirm", {"upload_id": form["upload_id"]}, format="json").status_code == 400
    response = post_local(client, form["fields"], data=image_bytes())
    assert s3_error(response) == (409, "UploadClosed", CLOSED.format(why=" and its upload is rejected"))
    assert stored_files(settings) == []


def test_the_local_write_is_exclusive(tmp_path):
    """Two posts racing past the check: the file put in place second is refused, the first stays."""
    local = storage.LocalStorage(tmp_path, 60)
    assert local.write_stream("uploads/1/a.png", [b"first"], 100, exclusive=True) == 5
    with pytest.raises(FileExistsError):
        local.write_stream("uploads/1/a.png", [b"second!"], 100, exclusive=True)
    assert local.read("uploads/1/a.png") == b"first"
    assert sorted(p.name for p in (tmp_path / "uploads" / "1").iterdir()) == ["a.png"]  # no temporary left


# ----------------------------------------------------------------------------- the job's check
@pytest.fixture
def job_runs(monkeypatch):
    # Inside the test's transaction close_old_connections() would close the connection under it.
    monkeypatch.setattr(jobs, "close_old_connections", lambda: None)


def run_job(upload: Upload) -> Sketch:
    sketch = Sketch.objects.create(owner=upload.owner, upload=upload, style="ink", method="basic", task_id=uuid.uuid4().hex)
    jobs.run_sketch(str(sketch.pk))
    sketch.refresh_from_db()
    return sketch


def test_the_job_fails_when_the_local_file_was_replaced(user, uploaded, job_runs):
    _, form, png = uploaded()
    get_storage().write(form["key"], HTML, "image/png")  # behind the view's back, e.g. on the disk
    sketch = run_job(Upload.objects.get(pk=form["upload_id"]))
    assert (sketch.status, sketch.error, sketch.result_key) == ("failed", SOURCE_CHANGED, "")


def test_the_job_completes_when_the_file_is_what_confirm_saw(user, uploaded, job_runs):
    _, form, _ = uploaded()
    sketch = run_job(Upload.objects.get(pk=form["upload_id"]))
    assert (sketch.status, sketch.error) == ("completed", "")


def test_the_same_bytes_restored_later_still_count_as_unchanged(user, uploaded, job_runs):
    """Local ETags are the content's MD5, as on S3: a file restored from a backup is the same file."""
    _, form, png = uploaded()
    upload = Upload.objects.get(pk=form["upload_id"])
    assert upload.etag == hashlib.md5(png).hexdigest()
    get_storage().delete(form["key"])
    get_storage().write(form["key"], png, "image/png")
    sketch = run_job(upload)
    assert (sketch.status, sketch.error) == ("completed", "")


# ----------------------------------------------------------------------------- S3 (SeaweedFS)
@pytest.fixture
def s3(seaweed, settings, monkeypatch):
    """The app on S3: its own S3Storage on a fresh SeaweedFS bucket in place of local media."""
    bucket = f"replay-{uuid.uuid4().hex[:10]}"
    seaweed.ensure_bucket(bucket)
    s3_storage = seaweed_storage(seaweed, bucket)
    for module in (services, jobs):
        monkeypatch.setattr(module, "get_storage", lambda: s3_storage)
    return s3_storage


def s3_upload(user, s3_storage, data: bytes):
    upload, presigned = services.create_upload(user, filename="me.jpg", content_type="image/jpeg", size=len(data))

    def post(body: bytes):
        files = {"file": ("me.jpg", body, "image/jpeg")}
        return requests.post(presigned.url, data=presigned.fields, files=files, timeout=30)

    assert post(data).status_code in (200, 201, 204)
    return services.confirm_upload(user, upload.pk), post


@pytest.mark.parametrize("replacement", ["html", "same-size"])
def test_s3_replay_after_confirm_makes_the_job_fail_with_a_reason(user, s3, job_runs, replacement):
    photo = image_bytes(320, 240, "JPEG", quality=90)
    upload, post = s3_upload(user, s3, photo)
    assert upload.status == "confirmed" and upload.size == len(photo)
    assert upload.etag == hashlib.md5(photo).hexdigest()  # what confirm recorded
    # the form's policy caps the size at what was declared: a replay within it is what S3 cannot refuse
    body = (HTML * (len(photo) // len(HTML) + 1))[: len(photo)] if replacement == "html" else bytes(reversed(photo))
    assert post(body).status_code in (200, 201, 204)
    assert s3.read(upload.key) == body
    sketch = run_job(upload)
    assert (sketch.status, sketch.error, sketch.result_key) == ("failed", SOURCE_CHANGED, "")


def test_s3_replay_larger_than_declared_is_refused_by_the_policy(user, s3, job_runs):
    photo = image_bytes(320, 240, "JPEG", quality=90)
    upload, post = s3_upload(user, s3, photo)
    status, code, _ = s3_error(post(photo + HTML))
    assert (status, code) == (400, "EntityTooLarge")
    assert s3.read(upload.key) == photo


def test_s3_job_completes_when_the_object_is_unchanged(user, s3, job_runs):
    upload, _ = s3_upload(user, s3, image_bytes(320, 240, "JPEG", quality=90))
    sketch = run_job(upload)
    assert (sketch.status, sketch.error) == ("completed", "")


# ----------------------------------------------------------------------------- the sweep
def _objects(user, backend):
    """Keys with rows (an upload, a result and its thumbnail) and keys without (a replay, a lost result)."""
    png = image_bytes()
    kept_upload = Upload.objects.create(owner=user, key=f"uploads/{user.pk}/{uuid.uuid4().hex}.png", content_type="image/png")
    sketch = Sketch.objects.create(
        owner=user,
        upload=kept_upload,
        style="ink",
        method="basic",
        status="completed",
        task_id=uuid.uuid4().hex,
        result_key=f"results/{user.pk}/{uuid.uuid4().hex}.png",
        thumbnail_key=f"results/{user.pk}/{uuid.uuid4().hex}-thumb.jpg",
    )
    kept = [kept_upload.key, sketch.result_key, sketch.thumbnail_key]
    orphans = [f"uploads/{user.pk}/{uuid.uuid4().hex}.png", f"results/{user.pk}/{uuid.uuid4().hex}.png"]
    for key in kept + orphans:
        backend.write(key, png, "image/png")
    return kept, orphans


def _exists(backend, key) -> bool:
    try:
        backend.head(key)
        return True
    except storage.ObjectMissing:
        return False


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_the_sweep_removes_objects_no_row_points_to(user, request, backend):
    target = request.getfixturevalue("s3") if backend == "s3" else get_storage()
    kept, orphans = _objects(user, target)
    assert services.sweep_orphan_objects() == 0  # young objects stay: a result is stored just before its row records it
    assert all(_exists(target, key) for key in kept + orphans)
    assert services.sweep_orphan_objects(older_than=timedelta(0)) == len(orphans)
    assert [key for key in kept + orphans if _exists(target, key)] == kept


def test_the_sweep_command_reports_both(user, settings):
    from io import StringIO

    from django.core.management import call_command

    _, orphans = _objects(user, get_storage())
    out = StringIO()
    call_command("sweep_uploads", "--hours", "0", stdout=out)
    assert out.getvalue().strip() == f"swept 0 stale uploads and {len(orphans)} orphan objects"
