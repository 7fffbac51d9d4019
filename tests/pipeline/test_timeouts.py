"""CPU bombs and jobs that outlive TASK_TIMEOUT, on both stacks.

A progressive JPEG whose one scan repeats 10,000 times (941 KB, 7000x7000) is refused at confirm
from its header. A job whose engine call runs long (a worker slowed by one silent call, as a long
decode inside libjpeg would be: ``SLOW_RENDER_SILENT``) is killed at TASK_TIMEOUT, in the RQ work
horse's engine child and in the embedded default's; another user's small sketch then runs at once;
and a long job that is still running is never re-queued by the reconciler
(``SKETCH_STALE_AFTER=8``, ``RECONCILE_INTERVAL=2`` in every stack of the suite).
"""

import time

import pytest

from tests.support.scan_bomb import scan_bomb
from tests.support.stack import Client, EmbeddedStack

from .conftest import jpeg_of

pytestmark = pytest.mark.stack

TIMED_OUT = "The conversion timed out after 5 s."
# Only the 320x240 photo is slowed: the 64x64 sketch of another user beside it runs at full speed.
SLOW = {"SLOW_RENDER_SILENT": "1", "SLOW_RENDER_MIN_PIXELS": "10000"}


@pytest.fixture(params=["production", "embedded"])
def stack(request):
    return request.getfixturevalue("prod_stack" if request.param == "production" else "embedded_stack")


@pytest.fixture(params=["production", "embedded"])
def slow_stack(request, stack_env, artifacts_dir, tmp_path):
    """``slow_stack(delay, env)``: a stack of its own whose engine spends ``delay`` s in one silent call."""
    embedded = []

    def make(delay: float, env: dict):
        if request.param == "production":
            return request.getfixturevalue("start_stack")(workers=1, slow_render=delay, env=env, worker_env=SLOW)
        logs = artifacts_dir / "pipeline" / f"embedded-{request.node.name}"
        stack = EmbeddedStack(stack_env, tmp_path / "var", logs, env={**env, **SLOW}, slow_render=delay).start()
        embedded.append(stack)
        return stack

    yield make
    for stack in embedded:
        stack.stop()


def test_a_scan_bomb_is_refused_at_confirm_in_milliseconds(stack, user_client):
    alice = user_client(stack)
    bomb = scan_bomb(7000, 7000, 10_000)
    presigned = alice.presign("bomb.jpg", "image/jpeg", len(bomb))
    assert Client.post_file(presigned, bomb, "bomb.jpg", "image/jpeg").status_code < 300
    started = time.monotonic()
    body = alice.confirm(presigned["upload_id"], expect=400)
    took = time.monotonic() - started
    assert body == {
        "detail": "This JPEG has more than 100 progressive scans (photos have about 10), which would take minutes "
        "to decode. Save it again as a standard JPEG or as PNG and upload that.",
        "code": "image_too_complex",
    }
    assert took < 2.0, f"confirm took {took:.2f} s"
    assert not stack.object_exists(presigned["key"])
    print(f"\nscan bomb ({len(bomb):,} bytes) refused at confirm in {took * 1000:.0f} ms")


def test_a_job_past_the_task_timeout_is_killed_and_does_not_starve_others(slow_stack, user_client, small_jpeg):
    stack = slow_stack(60, {"TASK_TIMEOUT": "5"})
    alice, bob = user_client(stack), user_client(stack)
    photo = alice.upload(small_jpeg, "slow.jpg", "image/jpeg")
    tiny = bob.upload(jpeg_of(64, 64), "tiny.jpg", "image/jpeg")
    created = time.monotonic()
    slow = alice.create(photo["id"], "pencil", "artistic")
    alice.wait_for(slow["id"], lambda s: s["status"] == "processing", timeout=30)
    small = bob.create(tiny["id"], "ink", "basic")  # one worker: it waits for the slow job
    small_created = time.monotonic()

    final = alice.wait(slow["id"], timeout=40)
    failed_after = time.monotonic() - created
    assert (final["status"], final["error"], final["attempts"]) == ("failed", TIMED_OUT, 1), final
    assert 5 <= failed_after < 12, f"failed {failed_after:.1f} s after create"
    done = bob.wait(small["id"], timeout=40)
    waited = time.monotonic() - small_created
    assert (done["status"], done["error"]) == ("completed", ""), done
    assert waited < 14, f"the 64x64 sketch waited {waited:.1f} s"
    time.sleep(3)  # neither retried nor resurrected by the reconciler
    later = alice.sketch(slow["id"])
    assert (later["status"], later["attempts"]) == ("failed", 1)
    result_key = "results/" + done["result_url"].split("?")[0].split("/results/")[-1]
    assert [k for k in stack.keys("results/") if "-thumb" not in k] == [result_key]  # the killed run stored nothing
    print(
        f"\nTASK_TIMEOUT=5, engine busy 60 s: failed {failed_after:.1f} s after create; the other 64x64 sketch waited {waited:.1f} s"
    )


def test_a_long_running_job_is_never_run_twice(slow_stack, user_client, small_jpeg):
    """Silent in the engine for longer than SKETCH_STALE_AFTER (8 s): the job's supervisor keeps its heartbeat."""
    stack = slow_stack(14, {"TASK_TIMEOUT": "60"})
    alice = user_client(stack)
    photo = alice.upload(small_jpeg, "long.jpg", "image/jpeg")
    sketch = alice.create(photo["id"], "ink", "basic")
    final = alice.wait(sketch["id"], timeout=60)
    assert (final["status"], final["attempts"], final["error"]) == ("completed", 1, ""), final
    assert "re-enqueued sketch" not in stack.logs()
    assert len([k for k in stack.keys("results/") if "-thumb" not in k]) == 1


def test_three_scan_bombs_do_not_delay_another_users_sketch(stack, user_client):
    """The attack: three bombs, then bob's 64x64 sketch (it waited 148.9 s on the embedded default)."""
    mallory, bob = user_client(stack), user_client(stack)
    bomb = scan_bomb(7000, 7000, 10_000)
    for _ in range(3):
        presigned = mallory.presign("bomb.jpg", "image/jpeg", len(bomb))
        assert Client.post_file(presigned, bomb, "bomb.jpg", "image/jpeg").status_code < 300
        assert mallory.confirm(presigned["upload_id"], expect=400)["code"] == "image_too_complex"
        mallory.create(presigned["upload_id"], "oil", "artistic", expect=400)  # nothing reaches the queue
    tiny = bob.upload(jpeg_of(64, 64), "tiny.jpg", "image/jpeg")
    started = time.monotonic()
    done = bob.wait(bob.create(tiny["id"], "ink", "basic")["id"], timeout=30)
    waited = time.monotonic() - started
    assert (done["status"], done["error"]) == ("completed", "")
    assert waited < 5, f"the 64x64 sketch took {waited:.1f} s"
    print(f"\nafter three scan bombs, another user's 64x64 sketch: create -> completed in {waited:.2f} s")
