"""Drill (long): the S3 server down for 30 s, then up again, while users upload, create and look at results.

The short version (S3 gone during one job, retried) is tests/pipeline/test_resilience.py. Here:
several jobs queued and running, an upload in progress, a finished result being viewed, and
new requests during the outage. Expected: the web answers every request (503 with a clear
reason where storage is needed), jobs wait in RQ's retry schedule (5, 15, 30, 60, 60, 60 s: about
4 minutes in all), then complete; no original, no result and no row is lost.
"""

from __future__ import annotations

import time

import pytest
import requests

from scripts.seaweed import SeaweedServer
from tests.drills.conftest import register, result_key
from tests.support.stack import TERMINAL, Client, decode_image

pytestmark = [pytest.mark.stack, pytest.mark.slow]
OUTAGE = 30


def raw_post(client, path: str, body: dict) -> requests.Response:
    """A POST whose 5xx is an answer to look at, not a test failure."""
    return client.session.post(client.base_url + path, json=body, timeout=30)


def test_s3_down_then_up(drill_stack, drill_jpeg, drill_record, tmp_path):
    s3 = SeaweedServer(str(tmp_path / "seaweed")).start()
    try:
        stack = drill_stack(workers=2, seaweed=s3, slow_render=1)
        alice, bob = register(stack), register(stack)
        upload = alice.upload(drill_jpeg, "photo.jpg", "image/jpeg")
        earlier = alice.wait(alice.create(upload["id"], "ink", "basic")["id"], timeout=60)
        assert earlier["status"] == "completed"
        pending_upload = bob.presign("bob.jpg", "image/jpeg", len(drill_jpeg))
        sketches = [alice.create(upload["id"], style, "basic") for style in ("pencil", "charcoal", "oil", "pastel")]
        alice.wait_for(sketches[0]["id"], lambda s: s["status"] == "processing", timeout=30)

        s3.stop(grace=0.2)
        down_at = time.monotonic()
        seen = {}
        # What each user does meanwhile, and what they get.
        try:
            Client.post_file(pending_upload, drill_jpeg, "bob.jpg", "image/jpeg", timeout=5)
            seen["upload POST"] = "accepted?!"
        except requests.RequestException as exc:
            seen["upload POST"] = f"fails ({type(exc).__name__})"
        confirm = raw_post(bob, "/api/upload/confirm", {"upload_id": pending_upload["upload_id"]})
        seen["confirm"] = f"{confirm.status_code} {confirm.json().get('code')}"
        assert confirm.status_code == 503 and confirm.json()["code"] == "storage_unavailable", confirm.text
        presign = raw_post(bob, "/api/upload/presigned-url", {"filename": "x.jpg", "content_type": "image/jpeg", "size": 1000})
        seen["presign"] = str(presign.status_code)
        assert presign.status_code in (201, 503)
        viewed = alice.sketch(earlier["id"])
        assert viewed["status"] == "completed" and viewed["result_url"]
        try:
            seen["result image"] = str(requests.get(viewed["result_url"], timeout=5).status_code)
        except requests.RequestException as exc:
            seen["result image"] = f"does not load ({type(exc).__name__})"
        during = alice.create(upload["id"], "acrylic", "basic")  # from a confirmed upload: accepted, runs later
        assert during["status"] == "queued"
        sketches.append(during)
        health = requests.get(f"{stack.url}/health", timeout=10)
        seen["/health"] = f"{health.status_code} {health.json().get('failed')}"
        assert health.status_code == 503 and "storage" in health.json()["failed"]
        assert alice.get("/api/sketch/").status_code == 200  # what needs no storage works
        retrying = alice.wait_for(sketches[0]["id"], lambda s: s["error"].startswith("Retrying"), timeout=30)
        seen["sketch"] = f"{retrying['status']}: {retrying['error']}"
        time.sleep(max(0, OUTAGE - (time.monotonic() - down_at)))

        s3.start()
        up_at = time.monotonic()
        finals = [alice.wait(s["id"], timeout=60 + 60) for s in sketches]  # TASK_TIMEOUT + 60
        recovered = time.monotonic() - up_at
        statuses = [f["status"] for f in finals]
        assert all(s in TERMINAL for s in statuses)
        assert statuses == ["completed"] * len(sketches), [(f["status"], f["error"], f["attempts"]) for f in finals]
        # The upload that failed during the outage works now; nothing stored before was lost.
        assert bob.upload(drill_jpeg, "bob.jpg", "image/jpeg")["status"] == "confirmed"
        assert decode_image(alice.fetch(alice.sketch(earlier["id"])["result_url"]).content)[1] == "PNG"
        assert stack.object_exists(upload["key"])
        stored = set(stack.keys("results/"))
        assert all(result_key(f) in stored for f in [earlier, *finals])
        drill_record(
            user_sees="; ".join(f"{k}: {v}" for k, v in seen.items()),
            no_loss=f"yes: original and earlier result intact; {len(sketches)}/{len(sketches)} sketches completed "
            f"(attempts {[f['attempts'] for f in finals]})",
            recovery=f"{recovered:.1f} s after S3 was back ({OUTAGE} s outage)",
            result="pass",
            details="jobs wait in RQ's retry schedule (5, 15, 30, 60, 60, 60 s after each failure); an outage longer than "
            "about 4 minutes ends a sketch failed ('Storage stayed unavailable; please try again later.')",
        )
    finally:
        s3.stop()
