"""Hostile uploads on both stacks: each gets a clear 4xx, never a 500, and leaves nothing behind.

On the production stack the presigned POST goes to SeaweedFS, which enforces the policy
(key, Content-Type, content-length-range) as S3 does; on the embedded default the local upload
view checks the signed policy.
"""

import base64
import json

import pytest

from tests.support.stack import Client, ProductionStack

from .conftest import MAX_FILE_SIZE, jpeg_of

pytestmark = pytest.mark.stack


@pytest.fixture(params=["production", "embedded"])
def stack(request):
    return request.getfixturevalue("prod_stack" if request.param == "production" else "embedded_stack")


def refused(response) -> bool:
    return 400 <= response.status_code < 500


def test_presign_refuses_wrong_types_and_sizes(stack, user_client):
    alice = user_client(stack)
    for content_type in ("application/pdf", "image/svg+xml", "text/html", "", "image/png; charset=utf-8"):
        body = alice.presign("x.png", content_type, 100, expect=400)
        assert body["detail"], content_type
    too_big = alice.presign("huge.jpg", "image/jpeg", MAX_FILE_SIZE + 1, expect=400)
    assert too_big["code"] == "file_too_large" and f"{MAX_FILE_SIZE // 2**20} MB" in too_big["detail"]
    alice.presign("empty.jpg", "image/jpeg", 0, expect=400)
    alice.presign("negative.jpg", "image/jpeg", -5, expect=400)
    assert stack.keys(f"uploads/{alice.user['id']}/") == []


@pytest.mark.parametrize("case", ["html_as_png", "truncated_jpeg", "png_bomb", "svg"])
def test_confirm_rejects_what_is_not_an_acceptable_image(stack, user_client, hostile_files, case):
    alice = user_client(stack)
    filename, content_type, data = hostile_files[case]
    presigned = alice.presign(filename, content_type, len(data))
    posted = Client.post_file(presigned, data, filename, content_type)
    assert posted.status_code < 300, posted.text  # the storage takes any bytes of the declared type
    assert stack.object_exists(presigned["key"])
    body = alice.confirm(presigned["upload_id"], expect=400)
    expected = {
        "html_as_png": ("unsupported_image", "not a supported image"),
        "svg": ("unsupported_image", "not a supported image"),
        "truncated_jpeg": ("corrupt_image", "incomplete"),
        "png_bomb": ("image_too_large", "30000x30000"),
    }[case]
    assert body["code"] == expected[0] and expected[1] in body["detail"], body
    assert not stack.object_exists(presigned["key"]), "a rejected upload is deleted from storage"
    again = alice.confirm(presigned["upload_id"], expect=400)
    assert again["code"] == "upload_rejected" and expected[1] in again["detail"], "the upload stays rejected"
    alice.create(presigned["upload_id"], "ink", "basic", expect=400)
    assert stack.keys(f"uploads/{alice.user['id']}/") == []


def test_zero_bytes_and_files_bigger_than_the_policy(stack, user_client):
    alice = user_client(stack)
    # Zero bytes: the storage refuses the POST (the policy's range starts at 1), confirm says so.
    presigned = alice.presign("empty.jpg", "image/jpeg", 10)
    assert refused(Client.post_file(presigned, b"", "empty.jpg", "image/jpeg"))
    assert alice.confirm(presigned["upload_id"], expect=400)["code"] == "upload_missing"
    # Declared small, sent big: the storage itself refuses the body, whatever the client claimed.
    presigned = alice.presign("liar.jpg", "image/jpeg", 1000)
    big = jpeg_of(64, 64) + b"\0" * (MAX_FILE_SIZE + 1)
    posted = Client.post_file(presigned, big, "liar.jpg", "image/jpeg")
    assert refused(posted), (posted.status_code, posted.text[:300])
    assert "EntityTooLarge" in posted.text or "too large" in posted.text.lower() or "size" in posted.text.lower()
    assert not stack.object_exists(presigned["key"])
    assert alice.confirm(presigned["upload_id"], expect=400)["code"] == "upload_missing"
    assert stack.keys(f"uploads/{alice.user['id']}/") == []


def _tampered_policy(stack, presigned: dict) -> dict:
    """The same policy with a larger size limit, the signature unchanged."""
    fields = presigned["fields"]
    if isinstance(stack, ProductionStack):
        policy = json.loads(base64.b64decode(fields["policy"]))
        for condition in policy["conditions"]:
            if isinstance(condition, list) and condition[0] == "content-length-range":
                condition[2] = 10**10
        return {"policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    # Django's signed value: "<payload>:<signature>"; change the payload, keep the signature.
    payload, _, signature = fields["policy"].rpartition(":")
    return {"policy": payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + ":" + signature}


def test_policy_tampering_is_refused_by_the_storage(stack, user_client, small_jpeg):
    alice = user_client(stack)
    presigned = alice.presign("photo.jpg", "image/jpeg", len(small_jpeg))
    other_key = presigned["key"].rsplit("/", 2)[0] + "/999999/evil.jpg"
    attempts = {
        "key": {"key": other_key},
        "content type": {"Content-Type": "text/html"},
        "size limit": _tampered_policy(stack, presigned),
    }
    for what, fields in attempts.items():
        posted = Client.post_file(presigned, small_jpeg, "photo.jpg", fields.get("Content-Type", "image/jpeg"), fields=fields)
        assert posted.status_code == 403, (what, posted.status_code, posted.text[:300])
    assert not stack.object_exists(presigned["key"]) and not stack.object_exists(other_key)
    assert alice.confirm(presigned["upload_id"], expect=400)["code"] == "upload_missing"
    # the untouched form still works, and confirming twice is harmless
    assert Client.post_file(presigned, small_jpeg, "photo.jpg", "image/jpeg").status_code < 300
    first = alice.confirm(presigned["upload_id"])
    assert first["status"] == "confirmed" and alice.confirm(presigned["upload_id"]) == first


def test_uploads_are_their_owners(stack, user_client, small_jpeg):
    alice, bob = user_client(stack), user_client(stack)
    presigned = alice.presign("photo.jpg", "image/jpeg", len(small_jpeg))
    assert alice.confirm(presigned["upload_id"], expect=400)["code"] == "upload_missing"  # confirm before upload
    assert Client.post_file(presigned, small_jpeg, "photo.jpg", "image/jpeg").status_code < 300
    bob.confirm(presigned["upload_id"], expect=404)
    bob.create(presigned["upload_id"], "ink", "basic", expect=404)
    alice.confirm(presigned["upload_id"])
    bob.confirm(presigned["upload_id"], expect=404)
    bob.create(presigned["upload_id"], "ink", "basic", expect=404)
    bob.download_url(presigned["key"], expect=404)
    bob.confirm("not-a-uuid", expect=400)
    bob.confirm("00000000-0000-0000-0000-000000000000", expect=404)
    bob.download_url("uploads/../../etc/passwd", expect=404)
    assert stack.object_exists(presigned["key"])
