"""The whole service as real processes, and a black-box client that talks to it over sockets.

``ProductionStack``: daphne + N ``manage.py sketchworker`` processes on the test PostgreSQL
database, its own ``redis-server`` (queues, channel layer and cache stay private to the stack,
so stacks never steal each other's jobs) and a SeaweedFS bucket with CORS.
``EmbeddedStack``: daphne alone with none of DATABASE_URL, REDIS_URL, AWS_BUCKET_NAME (SQLite,
local media, in-memory channel layer, in-process worker) in its own VAR_DIR.
``Client``: requests + Bearer token for the API, ``websockets`` for ``/ws``.

Used by tests/pipeline and by the load and drill tests; usable from scripts (bench/).

Stacks share the test database, and every worker runs the reconciler over *all* unfinished
sketches: run one stack with workers at a time (module- or function-scoped fixtures).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

from .processes import ROOT, Managed, base_env, daphne, free_port, redis_server, wait_for_port

TERMINAL = ("completed", "failed", "cancelled")
PASSWORD = "correct-horse-battery-staple"
_names = itertools.count(1)

# Generous brakes: a stack test registers many users from 127.0.0.1 within a minute.
# Plain http on 127.0.0.1: no redirect to https.
RELAXED_THROTTLES = {
    "THROTTLE_REGISTER_IP": "10000/min",
    "THROTTLE_LOGIN_IP": "10000/min",
    "THROTTLE_LOGIN_EMAIL": "10000/min",
    "THROTTLE_REGISTER_EMAIL": "10000/min",
    "THROTTLE_SKETCH_CREATE": "100000/hour",
    "SECURE_SSL_REDIRECT": "false",
}


class ServerError(AssertionError):
    """The service answered 5xx, or something other than what the test expected."""


# ----------------------------------------------------------------------------- client
class Client:
    """A non-browser API client: Bearer token, JSON, presigned POST upload, WebSocket listener."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout
        self.user: dict | None = None
        self.token = token
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    # -- plumbing
    def request(self, method: str, path: str, expect: int | tuple[int, ...] | None = None, **kwargs) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        kwargs.setdefault("timeout", self.timeout)
        response = self.session.request(method, url, **kwargs)
        wanted = () if expect is None else (expect,) if isinstance(expect, int) else tuple(expect)
        if response.status_code in wanted:
            return response
        if response.status_code >= 500:  # never acceptable unless asked for (e.g. 503 during an outage)
            raise ServerError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        if wanted:
            raise ServerError(f"{method} {path} -> {response.status_code}, expected {wanted}: {response.text[:500]}")
        return response

    def get(self, path, expect=200, **kwargs):
        return self.request("GET", path, expect, **kwargs)

    def post(self, path, json_body=None, expect=None, **kwargs):
        return self.request("POST", path, expect, json=json_body, **kwargs)

    def delete(self, path, expect=204, **kwargs):
        return self.request("DELETE", path, expect, **kwargs)

    # -- accounts
    def register(self, email: str | None = None, password: str = PASSWORD, display_name: str = "") -> Client:
        email = email or f"stack{next(_names)}-{uuid.uuid4().hex[:8]}@example.com"
        body = self.post(
            "/api/auth/register", {"email": email, "password": password, "display_name": display_name}, expect=201
        ).json()
        # API clients carry the token; drop the cookies so that no request is cookie-authenticated.
        self.session.cookies.clear()
        self.token = body["access_token"]
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.user = body["user"]
        self.email, self.password = email, password
        return self

    def login(self, email: str, password: str = PASSWORD) -> Client:
        body = self.post("/api/auth/login", {"email": email, "password": password}, expect=200).json()
        self.session.cookies.clear()
        self.token = body["access_token"]
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.user = body["user"]
        return self

    def other(self) -> Client:
        """A fresh, anonymous client on the same server."""
        return Client(self.base_url, timeout=self.timeout)

    # -- uploads
    def presign(self, filename: str, content_type: str, size: int, expect=201) -> dict:
        response = self.post(
            "/api/upload/presigned-url", {"filename": filename, "content_type": content_type, "size": size}, expect=expect
        )
        return response.json()

    @staticmethod
    def post_file(
        presigned: dict,
        data: bytes,
        filename: str = "photo.bin",
        content_type: str | None = None,
        fields: dict | None = None,
        timeout: float = 60,
    ) -> requests.Response:
        """What a browser does: multipart POST of ``fields`` then the file, straight to ``url`` (no token)."""
        form = dict(presigned["fields"])
        form.update(fields or {})
        content_type = content_type or form.get("Content-Type") or "application/octet-stream"
        return requests.post(presigned["url"], data=form, files={"file": (filename, data, content_type)}, timeout=timeout)

    def confirm(self, upload_id, expect=200) -> dict:
        return self.post("/api/upload/confirm", {"upload_id": str(upload_id)}, expect=expect).json()

    def upload(self, data: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg") -> dict:
        """presign → POST → confirm; returns the confirmed upload."""
        presigned = self.presign(filename, content_type, len(data))
        response = self.post_file(presigned, data, filename, content_type)
        if response.status_code >= 300:
            raise ServerError(f"upload POST -> {response.status_code}: {response.text[:500]}")
        return self.confirm(presigned["upload_id"])

    def download_url(self, key: str, expect=200) -> requests.Response:
        return self.get(f"/api/upload/download-url/{key}", expect=expect)

    # -- sketches
    def create(self, upload_id, style="pencil", method="basic", options: dict | None = None, expect=202) -> dict:
        body = {"upload_id": str(upload_id), "style": style, "method": method}
        if options is not None:
            body["options"] = options
        return self.post("/api/sketch/create", body, expect=expect).json()

    def sketch(self, sketch_id, expect=200) -> dict:
        return self.get(f"/api/sketch/{sketch_id}", expect=expect).json()

    def task(self, task_id, expect=200) -> dict:
        return self.get(f"/api/sketch/task/{task_id}", expect=expect).json()

    def sketches(self, **params) -> dict:
        return self.get("/api/sketch/", params=params).json()

    def remove(self, sketch_id, expect=204) -> requests.Response:
        return self.delete(f"/api/sketch/{sketch_id}", expect=expect)

    def wait(self, sketch_id, timeout: float = 60, until=TERMINAL, poll: float = 0.2) -> dict:
        """Poll the API until the sketch's status is in ``until``."""
        deadline = time.monotonic() + timeout
        while True:
            sketch = self.sketch(sketch_id)
            if sketch["status"] in until:
                return sketch
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"sketch {sketch_id} still {sketch['status']} ({sketch['stage']}, {sketch['progress']}%) after {timeout} s: {sketch}"
                )
            time.sleep(poll)

    def wait_for(self, sketch_id, predicate, timeout: float = 60, poll: float = 0.1) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            sketch = self.sketch(sketch_id)
            if predicate(sketch):
                return sketch
            if time.monotonic() > deadline:
                raise AssertionError(f"sketch {sketch_id} never reached the expected state within {timeout} s: {sketch}")
            time.sleep(poll)

    def fetch(self, url: str) -> requests.Response:
        """Download a presigned/signed URL as a browser would: no token."""
        return requests.get(url, timeout=self.timeout)

    # -- websocket
    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + f"/ws?token={self.token}"

    def listen(self) -> Listener:
        return Listener(self.ws_url).start()


class Listener:
    """Collects every message of one ``/ws`` connection in a background thread."""

    def __init__(self, url: str):
        self.url = url
        self.messages: list[dict] = []
        self.closed_with: int | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._error: BaseException | None = None
        self._socket = None

    def start(self, timeout: float = 10) -> Listener:
        self._thread = threading.Thread(target=self._run, name="ws-listener", daemon=True)
        self._thread.start()
        if not self._connected.wait(timeout):
            raise AssertionError(f"/ws did not connect within {timeout} s: {self._error!r}")
        if self._error:
            raise AssertionError(f"/ws failed: {self._error!r}")
        return self

    def _run(self):
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        try:
            with connect(self.url, open_timeout=10, max_size=2**22) as socket:
                self._socket = socket
                self._connected.set()
                while not self._stop.is_set():
                    try:
                        raw = socket.recv(timeout=0.2)
                    except TimeoutError:
                        continue
                    except ConnectionClosed as closed:
                        self.closed_with = closed.rcvd.code if closed.rcvd else None
                        break
                    with self._changed:
                        self.messages.append(json.loads(raw))
                        self._changed.notify_all()
        except BaseException as exc:  # surfaced by start() or the waits
            self._error = exc
        finally:
            self._connected.set()
            with self._changed:
                self._changed.notify_all()

    def send(self, message: dict) -> None:
        self._socket.send(json.dumps(message))

    def wait_until(self, predicate, timeout: float = 30):
        """Wait until ``predicate(messages)`` is truthy; return its value."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate(list(self.messages))
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"/ws: condition not met within {timeout} s; got {len(self.messages)} messages: {self.messages[-5:]}"
                    )
                if not self._thread.is_alive():
                    raise AssertionError(
                        f"/ws closed ({self.closed_with}, {self._error!r}) before the condition; messages: {self.messages[-5:]}"
                    )
                self._changed.wait(min(remaining, 0.5))

    def snapshot(self, timeout: float = 10) -> list[dict]:
        message = self.wait_until(lambda msgs: next((m for m in msgs if m["type"] == "sketch.snapshot"), None), timeout)
        return message["sketches"]

    def updates(self, sketch_id=None) -> list[dict]:
        return [
            m["sketch"]
            for m in list(self.messages)
            if m["type"] == "sketch.update" and (sketch_id is None or m["sketch"]["id"] == str(sketch_id))
        ]

    def wait_final(self, sketch_id, timeout: float = 60) -> dict:
        """Wait for the update that carries the sketch in a terminal state."""
        return self.wait_until(lambda _: next((s for s in self.updates(sketch_id) if s["status"] in TERMINAL), None), timeout)

    def close(self) -> None:
        self._stop.set()
        if self._socket is not None:
            try:
                self._socket.close()
            except Exception:
                pass
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ----------------------------------------------------------------------------- images
def photo_jpeg(path: Path, size=(4000, 3000), quality: int = 90) -> bytes:
    """A real photo resized to ``size`` (12 MP by default), as JPEG bytes."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def decode_image(data: bytes):
    """(width, height) and the PIL format of downloaded bytes; fails if they are not an image."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size, image.format


# ----------------------------------------------------------------------------- processes
def _manage(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return result


def kill_tree(managed: Managed) -> None:
    """kill -9 a process, its process group and every descendant (an RQ work horse has its own group)."""
    import psutil

    if managed.process is None:
        return
    try:
        descendants = psutil.Process(managed.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    for child in descendants:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    managed.kill()
    # Orphans are reaped by init (or linger as zombies where PID 1 does not reap): never wait long.
    psutil.wait_procs(descendants, timeout=0.5)


SERVER_ERROR = re.compile(
    r'"status": 5\d\d|"severity": "(ERROR|CRITICAL)", "logger": "(django\.request|daphne|django\.channels)|Traceback \(most recent'
)


class LogWatch:
    """Which lines a process logged since a mark: ``watch = LogWatch(path); ...; watch.new_lines()``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def new_lines(self) -> list[str]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            return handle.read().decode("utf-8", "replace").splitlines()

    def server_errors(self) -> list[str]:
        """5xx answers and unhandled exceptions of the web process (health's 503 is not one)."""
        return [line for line in self.new_lines() if SERVER_ERROR.search(line) and "/health" not in line]


class ProductionStack:
    """daphne + sketchworker processes + own redis-server + a SeaweedFS bucket, on the test database.

    ``env`` overrides go to every process; ``worker_env`` only to the workers. ``slow_render``
    (seconds) makes the workers' render stage take at least that long (tests/support/slow_worker.py),
    reporting progress all the while, so a test can act while a job runs.
    """

    def __init__(
        self,
        base_env: dict,
        seaweed,
        log_dir: Path,
        *,
        workers: int = 1,
        env: dict | None = None,
        worker_env: dict | None = None,
        slow_render: float = 0,
        bucket: str | None = None,
        redis_port: int | None = None,
    ):
        self.seaweed = seaweed
        self.log_dir = Path(log_dir)
        self.bucket = bucket or f"stack-{uuid.uuid4().hex[:10]}"
        self.redis_port = redis_port or free_port()
        self.initial_workers = workers
        self.slow_render = slow_render
        self.worker_env = dict(worker_env or {})
        self.env = {
            **base_env,
            **RELAXED_THROTTLES,
            **seaweed.env(self.bucket),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "ENV_FILE": "/nonexistent/.env",
        }
        self.env.update({k: str(v) for k, v in (env or {}).items() if v is not None})
        for key in [k for k, v in (env or {}).items() if v is None]:
            self.env.pop(key, None)
        self.web: Managed | None = None
        self.port: int | None = None
        self.redis: Managed | None = None
        self.workers: list[Managed] = []

    # -- life cycle
    def start(self) -> ProductionStack:
        try:
            self.redis = redis_server(self.redis_port, self.log_dir, name=f"redis-{self.redis_port}")
            self.seaweed.ensure_bucket(self.bucket, ["*"])
            for _ in range(self.initial_workers):  # they start while daphne does
                self.add_worker()
            self.web, self.port = daphne(self.env, self.log_dir, name=f"daphne-{self.bucket}")
            self.wait_for_workers(self.initial_workers)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for worker in self.workers:
            kill_tree(worker)
        if self.web:
            self.web.stop(1)  # daphne drains slowly on SIGTERM; nothing here needs a graceful stop
        if self.redis:
            self.redis.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Client:
        return Client(self.url)

    def s3(self):
        return self.seaweed.client()

    def object_exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.s3().head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def keys(self, prefix: str = "") -> list[str]:
        listing = self.s3().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    # -- workers
    def add_worker(self, env: dict | None = None, slow_render: float | None = None, name: str | None = None) -> Managed:
        worker_env = {**self.env, **self.worker_env, **{k: str(v) for k, v in (env or {}).items()}}
        delay = self.slow_render if slow_render is None else slow_render
        if delay:
            worker_env["SLOW_RENDER_SECONDS"] = str(delay)
            command = [sys.executable, "-m", "tests.support.slow_worker", "sketchworker"]
        else:
            command = [sys.executable, "manage.py", "sketchworker"]
        name = name or f"worker-{self.bucket}-{len(self.workers) + 1}"
        worker = Managed(name, command, worker_env, self.log_dir).start()
        self.workers.append(worker)
        return worker

    def worker_count(self) -> int:
        import redis

        client = redis.Redis(port=self.redis_port)
        try:
            return len(client.smembers("rq:workers:sketches"))
        finally:
            client.close()

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        """Until ``count`` workers listen on the queue (RQ registers them in Redis)."""
        deadline = time.monotonic() + timeout
        while self.worker_count() < count:
            for worker in self.workers:
                if not worker.alive():
                    raise RuntimeError(f"{worker.name} exited with {worker.process.returncode}:\n{worker.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.worker_count()} of {count} workers registered after {timeout} s")
            time.sleep(0.1)

    def kill_worker(self, worker: Managed) -> None:
        kill_tree(worker)

    # -- faults
    def restart_redis(self, downtime: float = 0) -> None:
        """kill -9 the stack's Redis (no persistence: every job is lost) and start a fresh one on the same port."""
        self.redis.kill()
        time.sleep(downtime)
        self.redis = redis_server(self.redis_port, self.log_dir, name=f"redis-{self.redis_port}")

    def manage(self, *args: str, env: dict | None = None, timeout: float = 120) -> str:
        return _manage({**self.env, **(env or {})}, *args, timeout=timeout).stdout

    def logs(self) -> str:
        parts = [self.web.output() if self.web else ""] + [w.output() for w in self.workers]
        return "\n".join(parts)

    def watch_web(self) -> LogWatch:
        return LogWatch(self.web.log_path)


class EmbeddedStack:
    """``make run``: one daphne process, SQLite + local media under its own VAR_DIR, in-process worker."""

    def __init__(self, base_env: dict, var_dir: Path, log_dir: Path, env: dict | None = None, slow_render: float = 0):
        self.var_dir = Path(var_dir)
        self.log_dir = Path(log_dir)
        self.slow_render = slow_render
        self.port = free_port()
        self.env = {**base_env, **RELAXED_THROTTLES}
        for key in (
            "DATABASE_URL",
            "REDIS_URL",
            "AWS_BUCKET_NAME",
            "AWS_S3_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "MEDIA_ROOT",
        ):
            self.env.pop(key, None)
        self.env.update({"DEBUG": "true", "VAR_DIR": str(self.var_dir), "BASE_URL": self.url, "ENV_FILE": "/nonexistent/.env"})
        self.env.update({k: str(v) for k, v in (env or {}).items()})
        self.web: Managed | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def media_root(self) -> Path:
        return self.var_dir / "media"

    def start(self) -> EmbeddedStack:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        _manage(self.env, "migrate", "--noinput")
        if self.slow_render:
            command = [
                sys.executable,
                "-m",
                "tests.support.slow_worker",
                "daphne",
                "-v",
                "0",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "sketchsite.asgi:application",
            ]
            self.web = Managed(
                f"daphne-embedded-{self.port}", command, {**self.env, "SLOW_RENDER_SECONDS": str(self.slow_render)}, self.log_dir
            ).start()
            wait_for_port(self.port, 60, self.web.process, self.web.log_path)
        else:
            self.web, _ = daphne(self.env, self.log_dir, port=self.port, name=f"daphne-embedded-{self.port}")
        return self

    def kill(self) -> None:
        """kill -9 the web process (and with it the in-process worker's running jobs)."""
        kill_tree(self.web)

    def stop(self) -> None:
        if self.web:
            self.web.stop(1)

    def restart(self) -> None:
        """Stop (if still running) and start the web process again on the same port and data."""
        self.web.stop(1)
        self.web.start()
        wait_for_port(self.port, 60, self.web.process, self.web.log_path)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def client(self) -> Client:
        return Client(self.url)

    def object_exists(self, key: str) -> bool:
        return (self.media_root / key).exists()

    def keys(self, prefix: str = "") -> list[str]:
        if not self.media_root.exists():
            return []
        return sorted(
            str(p.relative_to(self.media_root))
            for p in self.media_root.rglob("*")
            if p.is_file() and str(p.relative_to(self.media_root)).startswith(prefix)
        )

    def manage(self, *args: str, timeout: float = 120) -> str:
        return _manage(self.env, *args, timeout=timeout).stdout

    def logs(self) -> str:
        return self.web.output() if self.web else ""

    def watch_web(self) -> LogWatch:
        return LogWatch(self.web.log_path)


def standalone_env(var_dir: Path, database_url: str | None = None, redis_url: str | None = None) -> dict:
    """An environment for scripts that run stacks outside pytest (bench/)."""
    return base_env(
        DJANGO_SETTINGS_MODULE="sketchsite.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        VAR_DIR=str(var_dir),
        AWS_BUCKET_NAME=None,
    )


__all__ = [
    "Client",
    "EmbeddedStack",
    "Listener",
    "LogWatch",
    "ProductionStack",
    "ServerError",
    "decode_image",
    "kill_tree",
    "photo_jpeg",
]
