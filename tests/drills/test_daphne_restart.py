"""Drill: daphne restarted (a deploy: SIGTERM; a crash: kill -9) while clients hold /ws open and jobs run.

The workers keep converting and publishing while the web is away; those news go nowhere (the
channel layer delivers at most once). Expected: each client sees its socket close (4503 on a
graceful stop, an abrupt close on a crash), reconnects, and catches up from the snapshot (plus
one fetch of each watched sketch that finished meanwhile), so every sketch reaches its final
state on its client; nothing in the database or in storage is lost.
"""

from __future__ import annotations

import signal
import time

import pytest

from load.live import LiveClient
from tests.drills.conftest import register, result_key
from tests.support.processes import wait_for_port
from tests.support.stack import TERMINAL, kill_tree

pytestmark = pytest.mark.stack


def restart_web(stack, how: str, downtime: float) -> tuple[float, float]:
    """Stop daphne (``term``: SIGTERM and wait; ``kill``: kill -9) and start it again on the same port.

    Returns (the old process gone, the new one listening). (A graceful daphne still listens for
    a moment while it shuts down: a client that reconnects then gets 4503 again, and then
    reaches the new one.)
    """
    if how == "term":
        stack.web.signal(signal.SIGTERM)
        stack.web.process.wait(30)
    else:
        kill_tree(stack.web)
    gone = time.monotonic()
    time.sleep(downtime)
    stack.web.start()
    wait_for_port(stack.port, 60, stack.web.process, stack.web.log_path)
    return gone, time.monotonic()


def run_restart_drill(stack, jpeg: bytes, *, users: int, per_user: int, how: str, downtime: float, drill_record, slow: bool):
    clients = [register(stack) for _ in range(users)]
    uploads = [c.upload(jpeg, "photo.jpg", "image/jpeg") for c in clients]
    lives = [LiveClient(stack.url, c.token, name=f"user{i}").start(wait=30) for i, c in enumerate(clients)]
    try:
        created = []
        for client, upload, live in zip(clients, uploads, lives, strict=True):
            for style in ("pencil", "ink", "oil", "charcoal", "pastel")[:per_user]:
                sketch = client.create(upload["id"], style, "basic")
                live.watch(sketch)
                created.append((client, live, sketch))
        # Wait until a job is surely running, then take the web away.
        clients[0].wait_for(created[0][2]["id"], lambda s: s["status"] != "queued", timeout=30)
        down_at = time.monotonic()
        gone_at, up_at = restart_web(stack, how, downtime)
        deadline = time.monotonic() + 60 + 60  # TASK_TIMEOUT + 60
        pending = []
        for live in lives:
            pending += live.wait_all_final(max(1, deadline - time.monotonic()))
        recovered = time.monotonic() - down_at
        back = [next((t for t in live.snapshot_times if t > gone_at), None) for live in lives]
        assert None not in back, "a client never got a snapshot after the restart"
        reconnected = max(back) - up_at
        assert not pending, f"{len(pending)} sketches never reached their final state on the client"
        closes = [code for live in lives for code in live.close_codes()]
        assert len(closes) >= len(lives), f"every client should have seen its socket close: {closes}"
        if how == "term":  # (a reconnect attempt as daphne exits may then close abruptly)
            firsts = [live.close_codes()[0] for live in lives]
            assert set(firsts) == {4503}, f"a graceful stop closes with 4503 first: {firsts}"
        assert all(live.live for live in lives) or all(live.wait_live(10) for live in lives), "every client is connected again"
        # The database agrees with what each client saw; every result is in storage.
        via: dict[str, int] = {}
        for client, live, sketch in created:
            truth = client.sketch(sketch["id"])
            assert truth["status"] in TERMINAL
            assert truth["status"] == live.known[sketch["id"]]["status"], (truth, live.known[sketch["id"]])
            assert truth["status"] == "completed", truth
            via[live.final_via[sketch["id"]]] = via.get(live.final_via[sketch["id"]], 0) + 1
        stored = set(stack.keys("results/"))
        assert all(result_key(client.sketch(sketch["id"])) in stored for client, _, sketch in created)
        drill_record(
            user_sees=f"socket closed ({'4503, server restarting' if how == 'term' else 'abruptly, no close frame'}); "
            f"the page reconnects and catches up; {len(created)} sketches, final state arrived by {via}",
            no_loss=f"yes: {len(created)}/{len(created)} completed, each client's final state = database",
            recovery=f"clients back {reconnected:.1f} s after the web; all final {recovered:.1f} s after the stop",
            result="pass",
            details=f"{users} clients, web down {up_at - down_at:.1f} s ({how}); every sketch final on every client "
            f"{recovered:.1f} s after the stop (jobs included); the last client had its snapshot {reconnected:.1f} s after the web "
            f"listened again; {sum(live.connects for live in lives)} connects in all",
        )
    finally:
        for live in lives:
            live.stop()


def test_daphne_restarted_with_clients_connected(drill_stack, drill_jpeg, drill_record):
    stack = drill_stack(workers=2, slow_render=1)
    run_restart_drill(stack, drill_jpeg, users=3, per_user=2, how="term", downtime=1, drill_record=drill_record, slow=False)


@pytest.mark.slow
def test_daphne_killed_with_many_clients_connected(drill_stack, drill_jpeg, drill_record):
    stack = drill_stack(workers=2, slow_render=1)
    run_restart_drill(stack, drill_jpeg, users=30, per_user=2, how="kill", downtime=5, drill_record=drill_record, slow=True)
