"""The share-link API: POST/GET /api/sketch/{id}/share and DELETE /api/sketch/{id}/share/{link_id}."""

import hashlib
import re
import uuid

from sketches.models import ShareLink


def test_create_list_and_revoke(bearer, user, make_sketch):
    sketch = make_sketch(user)
    client = bearer(user)
    created = client.post(f"/api/sketch/{sketch.pk}/share", {"expires_in_days": 7, "include_original": True}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    match = re.fullmatch(r"http://testserver/s/([A-Za-z0-9_-]{43})", body["url"])
    assert match, body["url"]
    token = match.group(1)
    assert ShareLink.objects.get(pk=body["id"]).token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert body["token_prefix"] == token[:6]
    assert body["state"] == "active" and body["include_original"] is True
    assert body["revoked_at"] is None and body["view_count"] == 0

    listed = client.get(f"/api/sketch/{sketch.pk}/share/")
    assert listed.status_code == 200
    assert [(item["id"], item["url"], item["state"]) for item in listed.json()] == [(body["id"], None, "active")]

    for _ in range(2):  # revoking twice is not an error
        revoked = client.delete(f"/api/sketch/{sketch.pk}/share/{body['id']}")
        assert revoked.status_code == 204
    assert client.get(f"/api/sketch/{sketch.pk}/share").json()[0]["state"] == "revoked"


def test_include_original_defaults_to_off(bearer, user, make_sketch):
    response = bearer(user).post(f"/api/sketch/{make_sketch(user).pk}/share", {"expires_in_days": "1"}, format="json")
    assert response.status_code == 201
    assert response.json()["include_original"] is False


def test_bad_input_is_a_clear_400(bearer, user, make_sketch):
    client, sketch = bearer(user), make_sketch(user)
    for payload, field in (
        ({"expires_in_days": 2}, "expires_in_days"),
        ({}, "expires_in_days"),
        ({"expires_in_days": 1, "include_original": "perhaps"}, "include_original"),
    ):
        response = client.post(f"/api/sketch/{sketch.pk}/share", payload, format="json")
        assert response.status_code == 400, payload
        assert field in response.json()["detail"]
    assert (
        client.post(f"/api/sketch/{sketch.pk}/share", {"expires_in_days": 2}, format="json").json()["detail"]
        == "expires_in_days: Choose 1, 7 or 30 days (got 2)."
    )
    assert not ShareLink.objects.exists()


def test_unfinished_sketch_is_a_409(bearer, user, make_sketch):
    response = bearer(user).post(
        f"/api/sketch/{make_sketch(user, status='processing').pk}/share", {"expires_in_days": 1}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Only a completed sketch can be shared; this one is processing.",
        "code": "sketch_not_completed",
    }


def test_another_users_sketch_and_links_are_404(bearer, user, make_user, make_sketch):
    sketch = make_sketch(user)
    link_id = bearer(user).post(f"/api/sketch/{sketch.pk}/share", {"expires_in_days": 1}, format="json").json()["id"]
    for stranger in (make_user(), make_user(role="admin")):
        client = bearer(stranger)
        assert client.post(f"/api/sketch/{sketch.pk}/share", {"expires_in_days": 1}, format="json").status_code == 404
        assert client.get(f"/api/sketch/{sketch.pk}/share").status_code == 404
        assert client.delete(f"/api/sketch/{sketch.pk}/share/{link_id}").status_code == 404
    owner = bearer(user)
    assert owner.delete(f"/api/sketch/{sketch.pk}/share/{uuid.uuid4()}").status_code == 404
    assert owner.delete(f"/api/sketch/{sketch.pk}/share/not-a-uuid").status_code == 404
    assert owner.get(f"/api/sketch/{uuid.uuid4()}/share").status_code == 404
    assert ShareLink.objects.get(pk=link_id).revoked_at is None


def test_signed_out_is_401(api, user, make_sketch):
    sketch = make_sketch(user)
    assert api.post(f"/api/sketch/{sketch.pk}/share", {"expires_in_days": 1}, format="json").status_code == 401
    assert api.get(f"/api/sketch/{sketch.pk}/share").status_code == 401


def test_deleting_the_sketch_through_the_api_deletes_its_links(bearer, user, make_sketch):
    client, sketch = bearer(user), make_sketch(user)
    client.post(f"/api/sketch/{sketch.pk}/share", {"expires_in_days": 1}, format="json")
    assert ShareLink.objects.filter(sketch=sketch).count() == 1
    assert client.delete(f"/api/sketch/{sketch.pk}").status_code == 204
    assert not ShareLink.objects.exists()
