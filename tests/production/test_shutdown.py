"""Graceful shutdown with real processes: SIGTERM to the worker and to daphne, as a platform sends it.

Docker and Cloud Run signal PID 1 only (the entry point execs the program), so these tests
signal the main process, not its group. The RQ work horse runs in a process group of its own.
"""

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.support.processes import Managed, daphne, free_port, redis_server

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    """A Redis of these tests alone: no other test's worker takes their jobs."""
    port = free_port()
    server = redis_server(port, tmp_path_factory.mktemp("shutdown-redis"), name=f"redis-{port}")
    yield f"redis://127.0.0.1:{port}/0"
    server.kill()


@pytest.fixture
def env(stack_env, private_redis, tmp_path):
    return {**stack_env, "REDIS_URL": private_redis, "VAR_DIR": str(tmp_path / "var"), "ENV_FILE": "/nonexistent/.env"}


@pytest.fixture
def rq_queue(private_redis, monkeypatch):
    """The sketches queue on the private Redis; sketches.queue enqueues there during the test."""
    import redis
    from django.conf import settings
    from rq import Queue

    from sketches import queue as sketch_queue

    connection = redis.Redis.from_url(private_redis)
    connection.flushdb()
    rq = Queue(settings.SKETCH_QUEUE_NAME, connection=connection)
    monkeypatch.setattr(sketch_queue, "rq_queue", lambda: rq)
    yield rq
    connection.close()


def start_worker(env, logs_dir, name, *, grace: float, slow: float) -> Managed:
    command = [sys.executable, "-m", "tests.support.slow_worker", "sketchworker"]
    worker_env = {**env, "WORKER_SHUTDOWN_GRACE": str(grace), "SLOW_RENDER_SECONDS": str(slow)}
    return Managed(name, command, worker_env, logs_dir).start()


def queued_sketch(env, owner, request_id: str):
    """A confirmed upload of a real JPEG in the worker's media folder, and its queued sketch."""
    from PIL import Image

    from sketches import queue
    from sketches.models import Sketch, Upload

    key = f"uploads/{owner.pk}/{uuid.uuid4()}.jpg"
    path = os.path.join(env["VAR_DIR"], "media", key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    buffer = io.BytesIO()
    Image.radial_gradient("L").convert("RGB").resize((1200, 900)).save(buffer, "JPEG", quality=85)
    with open(path, "wb") as file:
        file.write(buffer.getvalue())
    upload = Upload.objects.create(
        owner=owner, key=key, content_type="image/jpeg", size=len(buffer.getvalue()), width=1200, height=900, status="confirmed"
    )
    sketch = Sketch.objects.create(
        owner=owner, upload=upload, style="pencil", method="basic", task_id=uuid.uuid4().hex, request_id=request_id
    )
    queue.enqueue(sketch)
    return sketch


def wait_for(predicate, timeout: float, what: str, worker: Managed | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tail = worker.output()[-4000:] if worker else ""
    raise AssertionError(f"{what} within {timeout} s\n{tail}")


def sketch_row(sketch):
    sketch.refresh_from_db()
    return sketch


def rendering(sketch):
    row = sketch_row(sketch)
    return row.status == "processing" and row.stage == "render"


def exit_of(process: Managed, timeout: float) -> float:
    started = time.monotonic()
    try:
        process.process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"{process.name} still running {timeout} s after SIGTERM:\n{process.output()[-4000:]}") from None
    return time.monotonic() - started


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def assert_nothing_left_running(rq_queue):
    from rq.registry import StartedJobRegistry

    assert rq_queue.count == 0
    assert StartedJobRegistry(queue=rq_queue).get_job_count(cleanup=False) == 0


# ----------------------------------------------------------------------------- worker
def test_worker_finishes_its_job_on_sigterm(env, rq_queue, make_user, logs_dir):
    worker = start_worker(env, logs_dir, "worker-finishes", grace=30, slow=3)
    try:
        sketch = queued_sketch(env, make_user(), "req-finish-1")
        wait_for(lambda: rendering(sketch), 30, "the job never started rendering", worker)
        os.kill(worker.pid, signal.SIGTERM)
        took = exit_of(worker, 25)
    finally:
        worker.kill()
    row = sketch_row(sketch)
    assert row.status == "completed", (row.status, row.error, worker.output()[-3000:])
    assert row.attempts == 1 and row.result_key
    assert worker.process.returncode == 0
    assert took < 20
    assert_nothing_left_running(rq_queue)
    # The job's lines are JSON and carry the id of the request that created the sketch.
    lines = json_lines(worker.output())
    job_lines = [line for line in lines if line.get("request_id") == "req-finish-1"]
    assert any(line["logger"] == "sketches.jobs" and "completed" in line["message"] for line in job_lines), lines[-20:]
    assert any(line["logger"].startswith("rq.") for line in job_lines), "RQ's own lines about the job get it too"


def test_worker_hands_a_long_job_back_and_another_worker_completes_it(env, rq_queue, make_user, logs_dir):
    first = start_worker(env, logs_dir, "worker-hands-back", grace=1, slow=30)
    try:
        sketch = queued_sketch(env, make_user(), "req-handback-1")
        wait_for(lambda: rendering(sketch), 30, "the job never started rendering", first)
        os.kill(first.pid, signal.SIGTERM)
        took = exit_of(first, 15)
    finally:
        first.kill()
    assert took < 10, "the job is handed back after the grace, not after the render"
    row = sketch_row(sketch)
    assert row.status == "queued" and row.attempts == 1, (row.status, row.error)
    assert rq_queue.count == 1, "its job is back on the queue"
    assert "handing it back" in first.output()

    second = start_worker(env, logs_dir, "worker-takes-over", grace=30, slow=0)
    try:
        wait_for(lambda: sketch_row(sketch).status in ("completed", "failed"), 60, "the second worker did not finish it", second)
    finally:
        second.stop(10)
    row = sketch_row(sketch)
    assert row.status == "completed", (row.status, row.error)
    assert row.attempts == 2
    assert_nothing_left_running(rq_queue)
    from rq.registry import FailedJobRegistry

    assert sketch.task_id not in FailedJobRegistry(queue=rq_queue).get_job_ids(cleanup=False)


# ----------------------------------------------------------------------------- web
def test_daphne_closes_websockets_and_exits_on_sigterm(env, user, logs_dir):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from accounts.tokens import issue_pair

    server, port = daphne(env, logs_dir, name="daphne-shutdown")
    try:
        with connect(f"ws://127.0.0.1:{port}/ws?token={issue_pair(user).access}", open_timeout=10) as socket:
            assert json.loads(socket.recv(timeout=10))["type"] == "sketch.snapshot"
            os.kill(server.pid, signal.SIGTERM)
            started = time.monotonic()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    socket.recv(timeout=5)
            assert time.monotonic() - started < 3
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4503, closed.value
        took = exit_of(server, 10)
        assert took < 5
    finally:
        server.kill()
    assert "Traceback" not in server.output(), server.output()[-3000:]


def test_daphne_turns_away_websockets_that_connect_while_it_stops(env, user, logs_dir):
    """After SIGTERM daphne still listens while the close frames go out: a socket that connects then
    is closed at once with 4503, never served a snapshot and then dropped."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake
    from websockets.sync.client import connect

    from accounts.tokens import issue_pair

    server, port = daphne(env, logs_dir, name="daphne-turns-away")
    url = f"ws://127.0.0.1:{port}/ws?token={issue_pair(user).access}"
    late = []
    try:
        with connect(url, open_timeout=10) as socket:
            assert json.loads(socket.recv(timeout=10))["type"] == "sketch.snapshot"
            os.kill(server.pid, signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                while True:
                    socket.recv(timeout=5)
        # The shutdown has begun; connect again and again until daphne stops listening.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with connect(url, open_timeout=2) as again:
                    late.append(first_event(again))
            except (OSError, InvalidHandshake, ConnectionClosed):
                break  # no longer listening, or dropped during the handshake as daphne exits
        exit_of(server, 10)
    finally:
        server.kill()
    assert late, "no socket connected between the close frames and daphne's exit (the window is FLUSH_SECONDS)"
    assert set(late) == {"closed 4503"}, late
    assert "Traceback" not in server.output(), server.output()[-3000:]


def first_event(socket) -> str:
    """What a client gets first: a message's type, or the close code."""
    from websockets.exceptions import ConnectionClosed

    try:
        return json.loads(socket.recv(timeout=5))["type"]
    except ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else 'without a frame'}"


def test_websockets_connecting_after_the_shutdown_began_never_reach_the_app():
    """The ASGI wrapper alone: once the server's shutdown hooks have run, a new socket gets 4503 and the app is not called."""
    import asyncio

    from sketchsite.ws_shutdown import CloseWebSocketsOnShutdown

    calls = []

    async def app(scope, receive, send):
        calls.append(scope["path"])
        await receive()
        await send({"type": "websocket.accept"})

    async def connect(wrapper) -> list[dict]:
        sent = []

        async def receive():
            return {"type": "websocket.connect"}

        async def send(message):
            sent.append(message)

        await wrapper({"type": "websocket", "path": "/ws"}, receive, send)
        return sent

    wrapper = CloseWebSocketsOnShutdown(app)
    assert asyncio.run(connect(wrapper)) == [{"type": "websocket.accept"}]
    assert calls == ["/ws"]
    asyncio.run(wrapper.close_all())  # what the server's shutdown runs; no socket was open
    assert asyncio.run(connect(wrapper)) == [
        {"type": "websocket.accept"},
        {"type": "websocket.close", "code": 4503, "reason": "server restarting"},
    ]
    assert calls == ["/ws"], "the app never saw the late socket"


def test_worker_role_as_a_cloud_run_service_listens_on_port(env, logs_dir):
    """A Cloud Run service must listen on $PORT: the entry point has the worker answer there."""
    from pathlib import Path

    import requests

    from tests.support.processes import wait_for_port

    from .test_docker import ENTRYPOINT

    port = free_port()
    worker_env = {
        **env,
        "ROLE": "worker",
        "K_SERVICE": "sketch-worker",
        "PORT": str(port),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
    }
    worker = Managed("entrypoint-worker", ["bash", str(ENTRYPOINT)], worker_env, logs_dir, cwd=Path("/")).start()
    try:
        wait_for_port(port, 60, worker.process, worker.log_path)
        response = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert response.status_code == 200 and response.json()["status"] == "ok"
        os.kill(worker.pid, signal.SIGTERM)
        assert exit_of(worker, 15) < 10
    finally:
        worker.kill()
    assert worker.process.returncode == 0, worker.output()[-3000:]
    assert any(line.get("logger") == "rq.worker" for line in json_lines(worker.output()))
