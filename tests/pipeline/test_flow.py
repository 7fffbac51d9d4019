"""The whole flow over sockets, on the production stack and on the embedded default.

register → presign → POST the file to the returned URL → confirm → create → WebSocket
snapshot, progress, completion → download and decode the result → task → list → delete.
"""

import re
import time

import pytest

from tests.support.stack import Client, decode_image

from .conftest import jpeg_of

pytestmark = pytest.mark.stack

STAGES = ["download", "decode", "render", "encode", "upload"]
STYLE_IDS = ["pencil", "charcoal", "watercolor", "ink", "pastel", "oil", "acrylic"]
METHOD_IDS = ["basic", "advanced", "artistic"]


@pytest.fixture(params=["production", "embedded"])
def stack(request):
    return request.getfixturevalue("prod_stack" if request.param == "production" else "embedded_stack")


def result_key(sketch: dict) -> str:
    """The storage key inside a result URL (S3 path-style or the local /files/ URL)."""
    match = re.search(r"(results/[^?]+)", sketch["result_url"])
    return match.group(1)


def test_end_to_end_with_a_12_mp_photo(stack, photo_12mp):
    alice = stack.client().register()
    styles = alice.get("/api/sketch/styles/available").json()
    assert [s["id"] for s in styles["styles"]] == STYLE_IDS and [m["id"] for m in styles["methods"]] == METHOD_IDS

    presigned = alice.presign("My Beach Photo.JPG", "image/jpeg", len(photo_12mp))
    assert re.fullmatch(rf"uploads/{alice.user['id']}/[0-9a-f]{{32}}\.jpg", presigned["key"]), presigned["key"]
    assert presigned["fields"]["key"] == presigned["key"] and presigned["expires_in"] > 0
    posted = Client.post_file(presigned, photo_12mp, "My Beach Photo.JPG", "image/jpeg")
    assert posted.status_code in (200, 201, 204), posted.text
    upload = alice.confirm(presigned["upload_id"])
    assert upload == {
        **upload,
        "id": presigned["upload_id"],
        "key": presigned["key"],
        "status": "confirmed",
        "content_type": "image/jpeg",
        "size": len(photo_12mp),
        "width": 4000,
        "height": 3000,
    }

    with alice.listen() as ws:
        assert ws.snapshot() == []
        created_at = time.monotonic()
        sketch = alice.create(upload["id"], "PENCIL", "Advanced")
        assert (sketch["status"], sketch["style"], sketch["method"], sketch["progress"]) == ("queued", "pencil", "advanced", 0)
        final = ws.wait_final(sketch["id"], timeout=120)
        elapsed = time.monotonic() - created_at
        updates = ws.updates(sketch["id"])
        # a second connection catches up: nothing unfinished any more
        with alice.listen() as again:
            assert again.snapshot() == []
    print(f"\n{type(stack).__name__}: 12 MP create → completed (seen on /ws) in {elapsed:.2f} s")

    assert final["status"] == "completed", final
    assert set(final) == set(sketch), "a socket message carries the API's sketch fields"
    stages = [u["stage"] for u in updates if u["status"] == "processing"]
    assert list(dict.fromkeys(stages)) == STAGES, stages
    progress = [u["progress"] for u in updates]
    assert progress == sorted(progress) and progress[-1] == 100
    statuses = [u["status"] for u in updates]
    order = ["queued", "processing", "completed"]
    assert statuses[0] == "queued" and statuses[-1] == "completed" and statuses == sorted(statuses, key=order.index), statuses

    downloaded = alice.fetch(final["result_url"])
    assert downloaded.status_code == 200
    assert downloaded.headers["Content-Disposition"].startswith("attachment")
    assert decode_image(downloaded.content) == ((4000, 3000), "PNG")
    assert len(downloaded.content) == final["result_size"]

    detail = alice.sketch(sketch["id"])
    assert (
        detail["status"] == "completed"
        and detail["result_url"]
        and (detail["result_width"], detail["result_height"]) == (4000, 3000)
    )
    task = alice.task(sketch["task_id"])
    assert task == {
        **task,
        "task_id": sketch["task_id"],
        "sketch_id": sketch["id"],
        "status": "completed",
        "progress": 100,
        "error": "",
    }
    original = alice.fetch(alice.download_url(upload["key"]).json()["url"])
    assert original.status_code == 200 and original.content == photo_12mp

    key = result_key(final)
    thumb = re.search(r"(results/[^?]+)", final["thumbnail_url"]).group(1)
    assert thumb.endswith("-thumb.jpg") and decode_image(alice.fetch(final["thumbnail_url"]).content) == ((480, 360), "JPEG")
    assert stack.object_exists(key) and stack.object_exists(thumb) and stack.object_exists(upload["key"])
    alice.remove(sketch["id"])
    alice.sketch(sketch["id"], expect=404)
    alice.task(sketch["task_id"], expect=404)
    assert not stack.object_exists(key), "the result is gone from storage"
    assert not stack.object_exists(thumb), "and its thumbnail"
    assert not stack.object_exists(upload["key"]), "the original went with its only sketch"
    assert alice.sketches()["count"] == 0


def test_list_filters_pagination_and_delete(stack, user_client):
    alice = user_client(stack)
    upload = alice.upload(jpeg_of(320, 240), "small.jpg", "image/jpeg")
    other = alice.upload(jpeg_of(200, 150), "other.jpg", "image/jpeg")
    plan = [(upload, "ink", "basic"), (upload, "oil", "basic"), (upload, "ink", "artistic"), (other, "pencil", "basic")]
    made = []
    for source, style, method in plan:
        made.append(alice.create(source["id"], style, method))
    finals = [alice.wait(s["id"], timeout=60) for s in made]
    assert [f["status"] for f in finals] == ["completed"] * 4

    listing = alice.sketches()
    assert listing["count"] == 4
    assert [s["id"] for s in listing["results"]] == [s["id"] for s in reversed(made)], "newest first"
    assert [s["id"] for s in alice.sketches(style="ink")["results"]] == [made[2]["id"], made[0]["id"]]
    assert [s["id"] for s in alice.sketches(style="INK", status="completed")["results"]] == [made[2]["id"], made[0]["id"]]
    assert alice.sketches(status="failed")["count"] == 0
    page1 = alice.sketches(page_size=3)
    page2 = alice.get(page1["next"]).json()
    assert len(page1["results"]) == 3 and len(page2["results"]) == 1 and page2["next"] is None
    assert [s["id"] for s in page1["results"] + page2["results"]] == [s["id"] for s in reversed(made)]
    bad = alice.get("/api/sketch/", params={"status": "sleeping"}, expect=400).json()
    assert "completed" in bad["detail"]

    # Deleting one of two sketches of an upload keeps the original; deleting the last removes it.
    first_key, second_key = result_key(finals[0]), result_key(finals[1])
    alice.remove(made[0]["id"])
    assert not stack.object_exists(first_key) and stack.object_exists(upload["key"])
    alice.remove(made[1]["id"])
    assert not stack.object_exists(second_key) and stack.object_exists(upload["key"])  # made[2] uses it still
    alice.remove(made[2]["id"])
    assert not stack.object_exists(upload["key"])
    alice.remove(made[2]["id"], expect=404)
    assert alice.sketches()["count"] == 1


def test_choices_and_options_are_validated(stack, user_client):
    alice = user_client(stack)
    upload = alice.upload(jpeg_of(120, 90), "tiny.jpg", "image/jpeg")
    unknown_style = alice.create(upload["id"], "crayon", "basic", expect=400)
    assert all(s in unknown_style["detail"] for s in STYLE_IDS), unknown_style
    unknown_method = alice.create(upload["id"], "ink", "fancy", expect=400)
    assert all(m in unknown_method["detail"] for m in METHOD_IDS), unknown_method
    for options in ({"strength": 1.5}, {"detail": -0.1}, {"seed": -1}, {"quality": 0}, {"format": "bmp"}, {"sparkle": 1}):
        response = alice.create(upload["id"], "ink", "basic", options=options, expect=400)
        assert response["detail"], options
    alice.create("not-a-uuid", "ink", "basic", expect=400)
    alice.create("00000000-0000-0000-0000-000000000000", "ink", "basic", expect=404)

    sketch = alice.create(
        upload["id"], "Charcoal", "ARTISTIC", options={"strength": 0.9, "format": "jpg", "quality": 80, "seed": 7}
    )
    final = alice.wait(sketch["id"], timeout=60)
    assert final["status"] == "completed" and final["options"]["format"] == "jpeg"
    result = alice.fetch(final["result_url"])
    assert decode_image(result.content) == ((120, 90), "JPEG")
    assert 'filename="tiny-charcoal-artistic.jpg"' in result.headers["Content-Disposition"]
    assert alice.sketches()["count"] == 1


def test_anonymous_requests_are_refused(stack):
    anonymous = stack.client()
    for method, path in [
        ("POST", "/api/upload/presigned-url"),
        ("POST", "/api/upload/confirm"),
        ("POST", "/api/sketch/create"),
        ("GET", "/api/sketch/"),
        ("GET", "/api/upload/download-url/uploads/1/x.jpg"),
    ]:
        assert anonymous.request(method, path, json={}).status_code == 401, path
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with connect(stack.url.replace("http", "ws") + "/ws?token=nonsense") as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=5)
    assert closed.value.rcvd.code == 4401
