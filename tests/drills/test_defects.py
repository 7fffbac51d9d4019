"""Defects the load test and the drills found, each pinned by a test so that it stays fixed.

The quick ones run in ``make test``; those that wait for timeouts are ``slow`` (``make drills``).
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from load.live import LiveClient
from tests.drills.conftest import register, run_sql, terminate_backends

pytestmark = pytest.mark.stack


def web_errors(stack, needle: str = "") -> list[str]:
    return [line[:300] for line in stack.web.output().splitlines() if '"severity": "ERROR"' in line and needle in line]


@pytest.mark.slow
def test_idle_websockets_stay_open(drill_stack):
    stack = drill_stack(workers=0)
    alice = register(stack)
    lives = [LiveClient(stack.url, alice.token, name=f"idle{i}").start(wait=30) for i in range(10)]
    try:
        time.sleep(25)  # nothing to say: the sockets just stay open
        closes = [code for live in lives for code in live.close_codes()]
    finally:
        for live in lives:
            live.stop()
    errors = web_errors(stack, "Timeout reading")
    assert not closes and not errors, f"{len(closes)} idle sockets closed ({closes}); {len(errors)} errors: {errors[:2]}"


def test_many_sockets_closing_at_once(drill_stack):
    stack = drill_stack(workers=0)
    alice = register(stack)
    lives = []
    try:
        for i in range(250):
            lives.append(LiveClient(stack.url, alice.token, name=f"s{i}").start(wait=30))
    finally:
        threads = [threading.Thread(target=live.stop) for live in lives]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    time.sleep(3)
    errors = web_errors(stack, "Too many connections")
    assert not errors, f"{len(errors)} consumers crashed: {errors[:2]}"


def test_the_web_does_not_hoard_database_connections(drill_stack):
    stack = drill_stack(workers=0)
    alice = register(stack)

    def hammer():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {alice.token}"
        for _ in range(40):
            assert session.get(f"{stack.url}/api/auth/me", timeout=30).status_code == 200

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    time.sleep(1)
    ((idle,),) = run_sql(
        stack.database_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle'"
    )
    assert idle <= 10, f"after 320 requests from 8 clients the web keeps {idle} idle connections open"


@pytest.mark.slow
def test_a_job_that_loses_its_database_connection_is_retried_at_once(drill_stack, drill_jpeg):
    # the reconciler's production defaults: what a user would wait for
    stack = drill_stack(workers=1, slow_render=3, env={"SKETCH_STALE_AFTER": "60", "RECONCILE_INTERVAL": "30"})
    alice = register(stack)
    upload = alice.upload(drill_jpeg, "photo.jpg", "image/jpeg")
    sketch = alice.create(upload["id"], "pencil", "basic")
    alice.wait_for(sketch["id"], lambda s: s["status"] == "processing" and s["stage"] == "render", timeout=30)
    terminate_backends(stack.database_url)
    final = alice.wait(sketch["id"], timeout=20)  # a 5 s retry and a 3 s job fit easily
    assert final["status"] == "completed", final
