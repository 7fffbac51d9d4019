"""Users see only their own objects and news; admins see everyone's (production stack)."""

import re

import pytest

pytestmark = pytest.mark.stack


def test_a_user_sees_nothing_of_another(prod_stack, user_client, small_jpeg, small_png):
    alice, bob = user_client(prod_stack), user_client(prod_stack)
    with alice.listen() as alice_ws, bob.listen() as bob_ws:
        assert bob_ws.snapshot() == [] and alice_ws.snapshot() == []
        upload = alice.upload(small_jpeg, "alice.jpg", "image/jpeg")
        done = alice.create(upload["id"], "ink", "basic")
        alice_ws.wait_final(done["id"])
        # a second one that Bob might see in a snapshot if snapshots leaked: left queued/processing
        pending = alice.create(upload["id"], "watercolor", "advanced")
        alice_ws.wait_final(pending["id"])
        # Bob's own sketch: his socket gets his news, and only his
        bob_upload = bob.upload(small_png, "bob.png", "image/png")
        bob_sketch = bob.create(bob_upload["id"], "pencil", "basic")
        bob_ws.wait_final(bob_sketch["id"])
        with bob.listen() as bob_again:
            assert bob_again.snapshot() == []
    alice_ids = {done["id"], pending["id"]}
    assert not [m for m in bob_ws.messages if m["type"] == "sketch.update" and m["sketch"]["id"] in alice_ids]
    assert {m["sketch"]["id"] for m in bob_ws.messages if m["type"] == "sketch.update"} == {bob_sketch["id"]}
    assert {m["sketch"]["id"] for m in alice_ws.messages if m["type"] == "sketch.update"} == alice_ids

    final = alice.sketch(done["id"])
    result_key = re.search(r"(results/[^?]+)", final["result_url"]).group(1)
    bob.sketch(done["id"], expect=404)
    bob.task(done["task_id"], expect=404)
    bob.remove(done["id"], expect=404)
    bob.download_url(upload["key"], expect=404)
    bob.download_url(result_key, expect=404)
    bob.confirm(upload["id"], expect=404)
    bob.create(upload["id"], "ink", "basic", expect=404)
    assert [s["id"] for s in bob.sketches()["results"]] == [bob_sketch["id"]]
    assert bob.sketches(style="ink")["count"] == 0
    # Bob's own keys work for him and not for Alice
    alice.download_url(bob_upload["key"], expect=404)
    assert bob.download_url(bob_upload["key"]).status_code == 200
    # nothing of Alice's was touched
    assert alice.sketch(done["id"])["status"] == "completed" and prod_stack.object_exists(result_key)
    assert alice.download_url(result_key).status_code == 200


def test_an_admin_sees_everyones(prod_stack, user_client, small_jpeg):
    alice, admin = user_client(prod_stack), user_client(prod_stack, role="admin")
    upload = alice.upload(small_jpeg, "alice.jpg", "image/jpeg")
    sketch = alice.create(upload["id"], "oil", "basic")
    final = alice.wait(sketch["id"])
    result_key = re.search(r"(results/[^?]+)", final["result_url"]).group(1)
    assert admin.sketch(sketch["id"])["status"] == "completed"
    assert admin.task(sketch["task_id"])["sketch_id"] == sketch["id"]
    assert sketch["id"] in [s["id"] for s in admin.sketches()["results"]]
    for key in (upload["key"], result_key):
        url = admin.download_url(key).json()["url"]
        assert admin.fetch(url).status_code == 200
    # an admin's socket carries the admin's own news only (the group is per user)
    with admin.listen() as admin_ws:
        assert admin_ws.snapshot() == []
        other = alice.create(upload["id"], "ink", "basic")
        alice.wait(other["id"])
        admin_ws.send({"type": "ping"})
        admin_ws.wait_until(lambda msgs: any(m["type"] == "pong" for m in msgs))
    assert not [m for m in admin_ws.messages if m["type"] == "sketch.update"]
    admin.remove(sketch["id"])
    alice.sketch(sketch["id"], expect=404)
    assert not prod_stack.object_exists(result_key)
