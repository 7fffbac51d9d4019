"""sketchsite/handlers.py: each request's middleware and view run in one thread, entered once."""

import asyncio
import json
import threading

import pytest
from asgiref import sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler

from sketchsite.handlers import SyncChainASGIHandler

SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/api/sketch/styles/available",
    "raw_path": b"/api/sketch/styles/available",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"testserver")],
    "client": ("127.0.0.1", 50000),
    "server": ("testserver", 80),
}


def serve_once(handler) -> tuple[dict, dict, dict]:
    """One GET through ``handler``; returns the response start, its body, and the thread hops counted."""
    hops = {"into_threads": 0, "back_to_the_loop": 0}
    loop_threads = set()
    real_sync_to_async, real_async_to_sync = sync.SyncToAsync.__call__, sync.AsyncToSync.__call__

    async def counting_sync_to_async(self, *args, **kwargs):
        hops["into_threads"] += 1
        return await real_sync_to_async(self, *args, **kwargs)

    def counting_async_to_sync(self, *args, **kwargs):
        hops["back_to_the_loop"] += 1
        return real_async_to_sync(self, *args, **kwargs)

    async def request():
        loop_threads.add(threading.get_ident())
        communicator = ApplicationCommunicator(handler, dict(SCOPE))
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(10)
        body = await communicator.receive_output(10)
        await communicator.wait(10)
        return start, body

    sync.SyncToAsync.__call__, sync.AsyncToSync.__call__ = counting_sync_to_async, counting_async_to_sync
    try:
        start, body = asyncio.run(request())
    finally:
        sync.SyncToAsync.__call__, sync.AsyncToSync.__call__ = real_sync_to_async, real_async_to_sync
    return start, body, hops


@pytest.mark.django_db(transaction=True)
def test_a_request_enters_its_thread_once_and_never_bounces_back():
    start, body, hops = serve_once(SyncChainASGIHandler())
    assert start["status"] == 200
    assert {style["id"] for style in json.loads(body["body"])["styles"]} >= {"pencil", "oil"}
    # Into the request's thread once for the whole chain and view; Django's request_started
    # receivers and the response's close add one each, whatever the handler.
    assert hops == {"into_threads": 3, "back_to_the_loop": 0}, hops


@pytest.mark.django_db(transaction=True)
def test_django_stock_handler_bounces_for_comparison():
    """What the handler saves: the stock one went back and forth ten times for the same request."""
    start, _, hops = serve_once(ASGIHandler())
    assert start["status"] == 200
    assert hops["into_threads"] >= 6 and hops["back_to_the_loop"] >= 1, hops


def test_the_web_process_freezes_what_it_loaded_before_traffic(tmp_path):
    """Startup objects live as long as the process: out of the cyclic GC's sweeps (pauses under load)."""
    import os
    import subprocess
    import sys

    script = "import gc, sketchsite.asgi; print(gc.get_freeze_count())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "VAR_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) > 100_000  # Django, DRF, boto3's S3 model, every view and serializer
