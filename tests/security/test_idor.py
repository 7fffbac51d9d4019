"""IDOR: every route that takes an id or a key answers 404 for another user's object; admins may.

The 404 (not 403) is deliberate: a stranger must not learn that the id exists.
"""

from urllib.parse import urlsplit

import pytest
from django.core import signing

from sketches.models import Sketch, Upload

from .conftest import assert_json_error, bearer_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_objects(make_user, owned):
    alice = make_user()
    upload, sketch = owned(alice)
    return alice, upload, sketch


@pytest.fixture
def mallory(make_user):
    return make_user()


def get_routes(upload, sketch):
    return {
        "sketch-detail": f"/api/sketch/{sketch.pk}",
        "task": f"/api/sketch/task/{sketch.task_id}",
        "download-upload": f"/api/upload/download-url/{upload.key}",
        "download-result": f"/api/upload/download-url/{sketch.result_key}",
    }


@pytest.mark.parametrize("route", ["sketch-detail", "task", "download-upload", "download-result"])
def test_get_routes_hide_other_users_objects(alice_objects, mallory, route):
    alice, upload, sketch = alice_objects
    url = get_routes(upload, sketch)[route]
    # The owner sees it (so the 404 below is about ownership, not a broken route)...
    assert bearer_client(alice).get(url).status_code == 200
    # ... a stranger gets the same answer as for an id that does not exist.
    body = assert_json_error(bearer_client(mallory).get(url), 404, "not_found")
    assert str(sketch.pk) not in str(body) and upload.key not in str(body)


@pytest.mark.parametrize("route", ["sketch-detail", "task", "download-upload", "download-result"])
def test_admin_may_read_any_object(alice_objects, admin_user, route):
    _, upload, sketch = alice_objects
    response = bearer_client(admin_user).get(get_routes(upload, sketch)[route])
    assert response.status_code == 200, response.content


def test_stranger_cannot_delete(alice_objects, mallory):
    _, upload, sketch = alice_objects
    assert_json_error(bearer_client(mallory).delete(f"/api/sketch/{sketch.pk}"), 404, "not_found")
    assert Sketch.objects.filter(pk=sketch.pk).exists()
    assert Upload.objects.filter(pk=upload.pk).exists()


def test_admin_may_delete(alice_objects, admin_user):
    _, _, sketch = alice_objects
    assert bearer_client(admin_user).delete(f"/api/sketch/{sketch.pk}").status_code == 204
    assert not Sketch.objects.filter(pk=sketch.pk).exists()


def test_stranger_cannot_confirm(make_user, owned, mallory):
    alice = make_user()
    upload, _ = owned(alice, upload_status=Upload.Status.PENDING, sketch_status=Sketch.Status.QUEUED)
    response = bearer_client(mallory).post("/api/upload/confirm", {"upload_id": str(upload.pk)}, format="json")
    assert_json_error(response, 404, "not_found")
    upload.refresh_from_db()
    assert upload.status == Upload.Status.PENDING


def test_admin_may_confirm(make_user, owned, admin_user):
    alice = make_user()
    upload, _ = owned(alice, upload_status=Upload.Status.PENDING, sketch_status=Sketch.Status.QUEUED)
    response = bearer_client(admin_user).post("/api/upload/confirm", {"upload_id": str(upload.pk)}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "confirmed"


def test_stranger_cannot_create_a_sketch_from_anothers_upload(alice_objects, mallory):
    _, upload, _ = alice_objects
    response = bearer_client(mallory).post("/api/sketch/create", {"upload_id": str(upload.pk), "style": "ink"}, format="json")
    assert_json_error(response, 404, "not_found")
    assert not Sketch.objects.filter(owner=mallory).exists()


def test_admin_may_create_a_sketch_from_any_upload(alice_objects, admin_user):
    _, upload, _ = alice_objects
    response = bearer_client(admin_user).post("/api/sketch/create", {"upload_id": str(upload.pk), "style": "ink"}, format="json")
    assert response.status_code == 202, response.content


def test_list_shows_only_own_sketches(alice_objects, mallory, admin_user, owned):
    _, _, alice_sketch = alice_objects
    _, mallory_sketch = owned(mallory)
    mine = {s["id"] for s in bearer_client(mallory).get("/api/sketch/").json()["results"]}
    assert mine == {str(mallory_sketch.pk)}
    everyone = {s["id"] for s in bearer_client(admin_user).get("/api/sketch/?page_size=100").json()["results"]}
    assert {str(alice_sketch.pk), str(mallory_sketch.pk)} <= everyone


def test_unconfirmed_upload_key_has_no_download_url(make_user, owned):
    """Downloads are authorised by a confirmed row: a pending object may be anything the client sent."""
    alice = make_user()
    upload, _ = owned(alice, upload_status=Upload.Status.PENDING, sketch_status=Sketch.Status.QUEUED)
    assert_json_error(bearer_client(alice).get(f"/api/upload/download-url/{upload.key}"), 404, "not_found")


def test_key_shaped_like_mine_is_not_enough(alice_objects, mallory):
    """A key under the stranger's own prefix that names no row of theirs is still 404 (rows, not key shapes)."""
    _, upload, _ = alice_objects
    forged = upload.key.replace(f"uploads/{upload.owner_id}/", f"uploads/{mallory.pk}/")
    assert_json_error(bearer_client(mallory).get(f"/api/upload/download-url/{forged}"), 404, "not_found")


# ----------------------------------------------------------------------------- local /files/<key>
def _files_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_download_link_serves_only_its_own_key(alice_objects, mallory, owned):
    _, alice_upload, _ = alice_objects
    mallory_upload, _ = owned(mallory)
    own_url = bearer_client(mallory).get(f"/api/upload/download-url/{mallory_upload.key}").json()["url"]
    client = bearer_client(mallory)
    ok = client.get(_files_path(own_url))
    assert ok.status_code == 200 and ok["Content-Disposition"].startswith("attachment")
    # Mallory's valid token, pointed at Alice's key.
    token = urlsplit(own_url).query
    stolen = client.get(f"/files/{alice_upload.key}?{token}")
    assert stolen.status_code == 403, stolen.status_code
    assert b"\x89PNG" not in b"".join(getattr(stolen, "streaming_content", [stolen.content]))


def test_download_link_needs_a_token(alice_objects):
    _, upload, _ = alice_objects
    for query in ("", "?token=", "?token=garbage", f"?token={signing.dumps({'key': upload.key}, salt='wrong-salt')}"):
        response = bearer_client(alice_objects[0]).get(f"/files/{upload.key}{query}")
        assert response.status_code == 403, (query, response.status_code)
