"""Faults on the production stack: dead workers, slow jobs, S3 and Redis outages, the task cap.

Each test starts a stack of its own (its own Redis; the shared stack's workers are stopped
meanwhile so that no other reconciler steps in). Workers started with ``slow_render`` spend
that many extra seconds in the render stage, reporting progress, so that a fault surely hits
a running job.
"""

import threading
import time
from collections import Counter

import pytest
import requests

from scripts.seaweed import SeaweedServer
from tests.support.processes import redis_server
from tests.support.stack import TERMINAL, decode_image

pytestmark = pytest.mark.stack


def in_render(sketch: dict) -> bool:
    return sketch["status"] == "processing" and sketch["stage"] == "render"


def test_a_worker_killed_mid_job_is_replaced_by_a_rerun(start_stack, user_client, photo_12mp):
    stack = start_stack(workers=1, slow_render=8)
    doomed = stack.workers[0]
    alice = user_client(stack)
    upload = alice.upload(photo_12mp, "beach.jpg", "image/jpeg")
    sketch = alice.create(upload["id"], "ink", "basic")
    alice.wait_for(sketch["id"], in_render, timeout=30)
    survivor = stack.add_worker(slow_render=0, name="survivor")  # its reconciler will notice
    stack.wait_for_workers(2)
    stack.kill_worker(doomed)  # kill -9 the worker, its work horse and its scheduler
    killed_at = time.monotonic()
    assert alice.sketch(sketch["id"])["status"] == "processing"  # the database still says so: nobody told it

    final = alice.wait(sketch["id"], timeout=45)
    assert final["status"] == "completed", final
    assert final["attempts"] == 2 and final["error"] == ""
    assert decode_image(alice.fetch(final["result_url"]).content) == ((4000, 3000), "PNG")
    assert "re-enqueued sketch" in survivor.output()
    print(f"\nrecovered {time.monotonic() - killed_at:.1f} s after kill -9")
    # One run's files only (the result and its thumbnail): the killed run left nothing behind.
    result = final["result_url"].split(f"/{stack.bucket}/", 1)[1].split("?")[0]
    assert sorted(stack.keys("results/")) == sorted([result, result.rsplit(".", 1)[0] + "-thumb.jpg"])


def test_a_job_slower_than_the_task_timeout_fails_timed_out(start_stack, user_client, small_jpeg):
    stack = start_stack(workers=1, slow_render=60, env={"TASK_TIMEOUT": "5"})
    alice = user_client(stack)
    upload = alice.upload(small_jpeg, "slow.jpg", "image/jpeg")
    created = time.monotonic()
    sketch = alice.create(upload["id"], "pencil", "artistic")
    final = alice.wait(sketch["id"], timeout=30)
    assert final["status"] == "failed" and final["error"] == "The conversion timed out after 5 s.", final
    assert 5 <= time.monotonic() - created < 20
    time.sleep(3)  # not retried, not resurrected by the reconciler
    later = alice.sketch(sketch["id"])
    assert (later["status"], later["attempts"]) == ("failed", 1)
    assert stack.keys("results/") == []
    # the worker is free again for the next job
    assert stack.workers[0].alive()


def test_an_s3_outage_during_a_job_is_retried(start_stack, user_client, small_jpeg, tmp_path):
    s3 = SeaweedServer(str(tmp_path / "seaweed")).start()
    try:
        stack = start_stack(seaweed=s3, workers=1, slow_render=4)
        alice = user_client(stack)
        upload = alice.upload(small_jpeg, "photo.jpg", "image/jpeg")
        sketch = alice.create(upload["id"], "oil", "basic")
        alice.wait_for(sketch["id"], in_render, timeout=30)
        s3.stop(grace=0.2)  # gone while the job renders: its upload of the result fails
        retrying = alice.wait_for(
            sketch["id"], lambda s: s["status"] == "queued" and s["error"].startswith("Retrying"), timeout=30
        )
        assert "storage is unavailable" in retrying["error"]
        # the web keeps answering what does not need S3, and says so clearly for what does
        assert alice.sketch(sketch["id"])["status"] == "queued"
        # presigning is computed locally (a signature), no round trip to S3
        alice.post("/api/upload/presigned-url", {"filename": "x.jpg", "content_type": "image/jpeg", "size": 10}, expect=201)
        alice.confirm(upload["id"])  # already confirmed: answered from the database
        # a new upload cannot be checked while S3 is away: a clear 503, not a 500
        other = alice.presign("y.jpg", "image/jpeg", 10)
        unavailable = alice.post("/api/upload/confirm", {"upload_id": other["upload_id"]}, expect=503).json()
        assert unavailable["code"] == "storage_unavailable"
        assert alice.get(f"/api/upload/download-url/{upload['key']}").json()["url"]  # signing needs no S3 either
        s3.start()  # same data directory and port: the original is still there
        final = alice.wait(sketch["id"], timeout=70)
        assert final["status"] == "completed", final
        assert final["attempts"] >= 2
        assert decode_image(alice.fetch(final["result_url"]).content) == ((320, 240), "PNG")
    finally:
        s3.stop()


def test_redis_restarted_mid_flow(start_stack, user_client, small_jpeg):
    stack = start_stack(workers=1, slow_render=3)
    alice = user_client(stack)
    upload = alice.upload(small_jpeg, "photo.jpg", "image/jpeg")
    sketches = [alice.create(upload["id"], style, "basic") for style in ("ink", "pencil", "charcoal")]
    alice.wait_for(sketches[0]["id"], in_render, timeout=30)

    stack.redis.kill()  # no persistence: the queue, the started job and the channel layer are gone
    try:
        # The web keeps answering everything that does not need Redis.
        assert alice.get("/api/auth/me").json()["email"] == alice.user["email"]
        assert alice.sketches()["count"] == 3
        assert alice.sketch(sketches[1]["id"])["status"] == "queued"
        assert alice.task(sketches[2]["task_id"])["status"] == "queued"
        health = requests.get(f"{stack.url}/health", timeout=10)
        assert health.status_code == 503 and "redis" in health.json()["failed"], health.text  # /health tells the truth
        # A sketch created while Redis is down is saved; its job will be enqueued by the reconciler.
        during = alice.create(upload["id"], "oil", "basic")
        assert during["status"] == "queued"
        sketches.append(during)
        time.sleep(1)
    finally:
        stack.redis = redis_server(stack.redis_port, stack.log_dir, name=f"redis-{stack.redis_port}-again")

    finals = [alice.wait(s["id"], timeout=60) for s in sketches]
    assert [f["status"] for f in finals] == ["completed"] * 4, finals
    assert stack.workers[0].alive(), "the worker rode out the outage"
    assert "lost from the queue" in stack.workers[0].output(), "the reconciler re-enqueued what Redis lost"
    assert alice.sketches(status="queued")["count"] == 0 and alice.sketches(status="processing")["count"] == 0
    # news flows again over a fresh socket once Redis is back
    with alice.listen() as ws:
        assert ws.snapshot() == []
        again = alice.create(upload["id"], "pastel", "basic")
        assert ws.wait_final(again["id"], timeout=30)["status"] == "completed"


def test_the_cap_holds_under_concurrent_creates(start_stack, user_client, small_jpeg):
    stack = start_stack(workers=0, env={"MAX_CONCURRENT_TASKS": "3"})  # nothing runs: every sketch stays queued
    alice, bob = user_client(stack), user_client(stack)
    upload = alice.upload(small_jpeg, "photo.jpg", "image/jpeg")
    barrier = threading.Barrier(12)
    answers = []

    def create():
        client = alice.other()
        client.session.headers["Authorization"] = f"Bearer {alice.token}"
        barrier.wait()
        response = client.post("/api/sketch/create", {"upload_id": upload["id"], "style": "ink", "method": "basic"})
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=create) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Counter(status for status, _ in answers) == {202: 3, 429: 9}, answers
    refusal = next(body for status, body in answers if status == 429)
    assert refusal["code"] == "too_many_tasks" and "3" in refusal["detail"]
    assert alice.sketches(status="queued")["count"] == 3 and alice.sketches()["count"] == 3
    alice.create(upload["id"], "ink", "basic", expect=429)
    # the cap is per user
    bob_upload = bob.upload(small_jpeg, "bob.jpg", "image/jpeg")
    assert bob.create(bob_upload["id"], "ink", "basic")["status"] == "queued"
    # deleting one frees a slot
    accepted = [body for status, body in answers if status == 202]
    alice.remove(accepted[0]["id"])
    alice.create(upload["id"], "ink", "basic")
    alice.create(upload["id"], "ink", "basic", expect=429)
    assert all(s["status"] not in TERMINAL for s in alice.sketches()["results"])


def test_the_embedded_default_resumes_work_after_a_crash(stack_env, tmp_path, artifacts_dir, photo_12mp):
    """kill -9 of the single web process mid-job: on restart its reconciler runs what was left."""
    from tests.support.stack import EmbeddedStack

    stack = EmbeddedStack(stack_env, tmp_path / "var", artifacts_dir / "pipeline" / "embedded-crash", slow_render=4).start()
    try:
        alice = stack.client().register()
        upload = alice.upload(photo_12mp, "beach.jpg", "image/jpeg")
        running = alice.create(upload["id"], "pencil", "basic")
        waiting = alice.create(upload["id"], "ink", "basic")  # one worker thread: this one waits its turn
        alice.wait_for(running["id"], in_render, timeout=30)
        stack.kill()
        stack.restart()
        assert alice.sketch(running["id"])["status"] == "processing" and alice.sketch(waiting["id"])["status"] == "queued"
        finals = [alice.wait(s["id"], timeout=60) for s in (running, waiting)]
        assert [(f["status"], f["attempts"]) for f in finals] == [("completed", 2), ("completed", 1)], finals
        assert decode_image(alice.fetch(finals[0]["result_url"]).content) == ((4000, 3000), "PNG")
        assert "re-enqueued sketch" in stack.logs()
    finally:
        stack.stop()
