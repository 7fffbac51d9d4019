"""The load scenario: many users holding /ws open while they upload, create, poll and list.

Run by ``load/run_load.py`` (``make load``), which starts the production stack, seeds the
accounts and reads the results. Usable alone against any deployment whose accounts file you
have: ``LOAD_ACCOUNTS=accounts.json locust -f load/locustfile.py --headless -u 220 -r 20 --host URL``.

Two kinds of users:

* ``SketchUser`` (most): one seeded account each (seeding skips the 0.5 s password hash per
  user, which would otherwise be the whole test). On start: opens ``/ws`` and waits for its
  snapshot, uploads a 640x480 JPEG. Then, every few seconds: polls a sketch or its task, lists
  its sketches, reads ``me`` and the styles, gets a download link, now and then uploads again
  or creates a sketch (the basic method mostly). Its socket stays open to the end.
* ``Newcomer`` (a few): registers a fresh account through the API, opens ``/ws``, uploads and
  creates one sketch; its socket stays open too.

Every sketch a user creates is watched by its live client (load/live.py, the pages' live.js
logic). When the measured window ends, users stop, the drain waits until every watched sketch
is final on its client; any that is not gets a fresh snapshot (``resync``: an update lost while
the socket was up). Results go to ``LOAD_RESULTS`` (JSON) for run_load.py.

Environment: LOAD_ACCOUNTS (JSON list of {id, email, token}), LOAD_RESULTS, LOAD_DURATION
(measured seconds, default 60), LOAD_DRAIN (seconds, default 180), LOAD_NEWCOMERS (2),
LOAD_NEWCOMER_PACING (s, 10), LOAD_WAIT_MIN/MAX (s, 1.5/4), LOAD_CREATE_WEIGHT (1), LOAD_PHOTOS.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import sys
import threading
import time
import uuid
from pathlib import Path

import gevent
import requests
from locust import FastHttpUser, between, constant_pacing, events, task

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from load.live import LiveClient  # noqa: E402

PASSWORD = "correct-horse-battery-staple"
DURATION = float(os.environ.get("LOAD_DURATION", "60"))
DRAIN = float(os.environ.get("LOAD_DRAIN", "180"))
NEWCOMERS = int(os.environ.get("LOAD_NEWCOMERS", "2"))
NEWCOMER_PACING = float(os.environ.get("LOAD_NEWCOMER_PACING", "10"))
WAIT = (float(os.environ.get("LOAD_WAIT_MIN", "1.5")), float(os.environ.get("LOAD_WAIT_MAX", "4")))
CREATE_WEIGHT = int(os.environ.get("LOAD_CREATE_WEIGHT", "1"))
PHOTOS = Path(os.environ.get("LOAD_PHOTOS", str(ROOT / "tests" / "photos")))
# (style, method): the basic method mostly
LOOKS = [(s, "basic") for s in ("pencil", "charcoal", "watercolor", "ink", "pastel", "oil", "acrylic")] * 4 + [
    ("ink", "advanced"),
    ("pencil", "advanced"),
    ("oil", "artistic"),
    ("charcoal", "artistic"),
]

UPLOAD_ENDPOINTS = {"/api/upload/presigned-url", "/api/upload/confirm", "S3 POST (presigned)"}
AUTH_ENDPOINTS = {"/api/auth/register"}  # hashes a password (PBKDF2, ~0.5 s of CPU) by design


# ----------------------------------------------------------------------------- shared state
class State:
    accounts: list[dict] = []
    account_iter = None
    images: list[bytes] = []
    lives: list[LiveClient] = []
    ready = 0
    window: dict = {}
    created: list[dict] = []  # {id, user, created_wall}
    create_refused: int = 0
    stats_at_end: dict | None = None


def _images() -> list[bytes]:
    from PIL import Image, ImageDraw

    found = []
    for path in sorted(PHOTOS.glob("*.jpg"))[:4]:
        with Image.open(path) as image:
            image = image.convert("RGB").resize((640, 480))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        found.append(buffer.getvalue())
    if not found:  # no photos on this machine: a drawn picture
        image = Image.new("RGB", (640, 480), (200, 180, 150))
        ImageDraw.Draw(image).ellipse((120, 80, 520, 400), fill=(40, 60, 160))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        found.append(buffer.getvalue())
    return found


@events.init.add_listener
def _init(environment, **_kwargs):
    path = os.environ.get("LOAD_ACCOUNTS")
    State.accounts = json.loads(Path(path).read_text()) if path else []
    State.account_iter = iter(State.accounts)
    State.images = _images()


def _fire(environment, request_type: str, name: str, started: float, exception=None, length: int = 0):
    environment.events.request.fire(
        request_type=request_type,
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=length,
        exception=exception,
        context={},
    )


# ----------------------------------------------------------------------------- users
HOSTS = [h for h in os.environ.get("LOAD_HOSTS", "").split(",") if h]  # several web processes: users spread over them
_host_numbers = itertools.count()


class ApiUser(FastHttpUser):
    abstract = True
    network_timeout = 60.0
    connection_timeout = 30.0

    def __init__(self, environment):
        if HOSTS:
            self.host = HOSTS[next(_host_numbers) % len(HOSTS)]
        super().__init__(environment)

    def setup_client(self, token: str, user_id) -> None:
        self.token = token
        self.user_id = user_id
        self.headers = {"Authorization": f"Bearer {token}"}
        self.s3 = requests.Session()
        self.uploads: list[str] = []
        self.sketches: list[dict] = []
        environment = self.environment

        def on_connect(seconds, exc):
            environment.events.request.fire(
                request_type="WS",
                name="/ws connect → snapshot",
                response_time=seconds * 1000,
                response_length=0,
                exception=exc,
                context={},
            )

        self.live = LiveClient(self.host, token, name=f"u{user_id}", on_connect=on_connect, max_backoff=2.0)
        State.lives.append(self.live)
        self.live.start(wait=60)

    def api(self, method: str, path: str, name: str | None = None, expect=(200,), **kwargs):
        with self.client.request(
            method, path, name=name or path, headers=self.headers, catch_response=True, **kwargs
        ) as response:
            if response.status_code not in expect:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return None
            response.success()
            try:
                return response.json()
            except Exception:
                return {}

    def upload(self) -> str | None:
        data = random.choice(State.images)
        presigned = self.api(
            "POST",
            "/api/upload/presigned-url",
            json={"filename": "photo.jpg", "content_type": "image/jpeg", "size": len(data)},
            expect=(201,),
        )
        if not presigned:
            return None
        started = time.perf_counter()
        try:
            answer = self.s3.post(
                presigned["url"], data=presigned["fields"], files={"file": ("photo.jpg", data, "image/jpeg")}, timeout=60
            )
            error = None if answer.status_code < 300 else RuntimeError(f"S3 answered {answer.status_code}: {answer.text[:200]}")
        except Exception as exc:
            error = exc
        _fire(self.environment, "POST", "S3 POST (presigned)", started, error, len(data))
        if error:
            return None
        confirmed = self.api("POST", "/api/upload/confirm", json={"upload_id": presigned["upload_id"]})
        if not confirmed:
            return None
        self.uploads.append(confirmed["id"])
        return confirmed["id"]

    def create(self) -> dict | None:
        if not self.uploads:
            return None
        style, method = random.choice(LOOKS)
        with self.client.request(
            "POST",
            "/api/sketch/create",
            headers=self.headers,
            catch_response=True,
            json={"upload_id": random.choice(self.uploads), "style": style, "method": method},
        ) as response:
            if response.status_code == 429:  # the per-user cap: expected now and then, not an error
                response.success()
                State.create_refused += 1
                return None
            if response.status_code != 202:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return None
            response.success()
            sketch = response.json()
        self.live.watch(sketch)
        self.sketches.append(sketch)
        State.created.append(
            {
                "id": sketch["id"],
                "task_id": sketch["task_id"],
                "user": self.user_id,
                "created_wall": time.time(),
                "style": style,
                "method": method,
            }
        )
        return sketch


class SketchUser(ApiUser):
    weight = 100
    wait_time = between(*WAIT)

    def on_start(self):
        account = next(State.account_iter, None)
        if account is None:
            raise RuntimeError("more users than seeded accounts (LOAD_ACCOUNTS)")
        self.setup_client(account["token"], account["id"])
        self.upload()
        State.ready += 1

    def recent(self) -> dict | None:
        return random.choice(self.sketches[-5:]) if self.sketches else None

    @task(CREATE_WEIGHT)
    def create_sketch(self):
        self.create()

    @task(10)
    def poll_sketch(self):
        sketch = self.recent()
        if sketch:
            self.api("GET", f"/api/sketch/{sketch['id']}", name="/api/sketch/{id}")

    @task(4)
    def poll_task(self):
        sketch = self.recent()
        if sketch:
            self.api("GET", f"/api/sketch/task/{sketch['task_id']}", name="/api/sketch/task/{task_id}")

    @task(8)
    def list_sketches(self):
        params = random.choice(["", "?status=completed", "?page_size=10", "?style=ink"])
        self.api("GET", f"/api/sketch/{params}", name="/api/sketch/ (list)")

    @task(4)
    def me(self):
        self.api("GET", "/api/auth/me")

    @task(3)
    def styles(self):
        self.api("GET", "/api/sketch/styles/available")

    @task(3)
    def download_url(self):
        done = [
            s
            for s in (self.live.known.get(x["id"]) for x in self.sketches[-10:])
            if s and s.get("status") == "completed" and s.get("result_key")
        ]
        key = random.choice(done)["result_key"] if done else None
        if key is None and self.uploads:
            return self.me()
        if key:
            self.api("GET", f"/api/upload/download-url/{key}", name="/api/upload/download-url/{key}")

    @task(1)
    def upload_again(self):
        self.upload()


class Newcomer(ApiUser):
    """Registers a new account each round and takes it through a first sketch."""

    abstract = NEWCOMERS == 0  # locust treats fixed_count = 0 as "not fixed"
    fixed_count = NEWCOMERS
    wait_time = constant_pacing(NEWCOMER_PACING)

    def on_start(self):
        State.ready += 1

    @task
    def first_visit(self):
        email = f"newcomer-{uuid.uuid4().hex[:12]}@example.com"
        with self.client.request(
            "POST",
            "/api/auth/register",
            catch_response=True,
            json={"email": email, "password": PASSWORD, "display_name": "Newcomer"},
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return
            response.success()
            body = response.json()
        if getattr(self.client, "cookiejar", None) is not None:
            self.client.cookiejar.clear()  # an API client: Bearer only, no cookie (and so no CSRF)
        self.setup_client(body["access_token"], body["user"]["id"])
        self.api("GET", "/api/auth/me")
        if self.upload():
            self.create()


# ----------------------------------------------------------------------------- phases
def _stats_snapshot(environment, seconds: float) -> dict:
    rows = {}
    for (name, method), entry in sorted(environment.stats.entries.items()):
        if not entry.num_requests:
            continue
        rows[name] = {
            "method": method,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "rps": entry.num_requests / seconds,
            "p50": entry.get_response_time_percentile(0.50),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            "max": entry.max_response_time,
            "avg": entry.avg_response_time,
        }
    errors = [
        {"name": e.name, "method": e.method, "error": str(e.error)[:300], "count": e.occurrences}
        for e in environment.stats.errors.values()
    ]
    return {
        "endpoints": rows,
        "errors": errors,
        "total_requests": environment.stats.total.num_requests,
        "total_failures": environment.stats.total.num_failures,
    }


_ENV: list = []


@events.init.add_listener
def _remember(environment, **_kwargs):
    _ENV.append(environment)


@events.spawning_complete.add_listener
def _spawned(user_count, **_kwargs):
    gevent.spawn(_measure, _ENV[0], user_count)


def _measure(environment, user_count: int) -> None:
    deadline = time.monotonic() + 120
    while State.ready < user_count and time.monotonic() < deadline:
        gevent.sleep(0.2)
    live = sum(1 for c in State.lives if c.live)
    print(f"[load] {State.ready}/{user_count} users ready, {live} sockets live; measuring {DURATION:.0f} s", flush=True)
    environment.stats.reset_all()
    State.created.clear()
    State.create_refused = 0
    State.window = {"start_wall": time.time(), "start": time.monotonic(), "ready_users": State.ready, "sockets_at_start": live}
    samples = []
    while time.monotonic() - State.window["start"] < DURATION:
        gevent.sleep(1)
        samples.append(sum(1 for c in State.lives if c.live))
    State.window.update(
        {"end_wall": time.time(), "end": time.monotonic(), "sockets_min": min(samples or [0]), "sockets_max": max(samples or [0])}
    )
    State.stats_at_end = _stats_snapshot(environment, State.window["end"] - State.window["start"])
    State.window["created_in_window"] = len(State.created)
    environment.runner.quit()


@events.test_stop.add_listener
def _drain(environment, **_kwargs):
    if not State.window.get("end"):
        State.window.update({"end_wall": time.time(), "end": time.monotonic()})
        State.stats_at_end = _stats_snapshot(
            environment, State.window["end"] - State.window.get("start", State.window["end"] - 1)
        )
    started = time.monotonic()
    print(
        f"[load] window over; draining: waiting for {sum(len(c.pending()) for c in State.lives)} unfinished sketches on the clients",
        flush=True,
    )
    deadline = started + DRAIN
    while time.monotonic() < deadline and any(c.pending() for c in State.lives):
        gevent.sleep(0.5)
    drained = time.monotonic() - started
    # Anything still pending on a client whose socket stayed up: an update was lost. Ask again.
    lost_ids = {i for c in State.lives for i in c.pending()}
    for client in State.lives:
        if client.pending():
            client.resync()
    resync_deadline = time.monotonic() + 30
    while time.monotonic() < resync_deadline and any(c.pending() for c in State.lives):
        gevent.sleep(0.5)
    final_via: dict[str, int] = {}
    turnaround = []
    for client in State.lives:
        for sketch_id, via in client.final_via.items():
            if sketch_id in client.watched:
                final_via[via] = final_via.get(via, 0) + 1
                turnaround.append(client.final_at[sketch_id] - client.watched[sketch_id])
    statuses: dict[str, int] = {}
    for client in State.lives:
        for sketch_id in client.watched:
            status = (client.known.get(sketch_id) or {}).get("status", "unknown")
            statuses[status] = statuses.get(status, 0) + 1
    turnaround.sort()

    def pct(values, q):
        return values[min(len(values) - 1, int(q * len(values)))] if values else None

    results = {
        "window": State.window,
        "stats": State.stats_at_end,
        "created": State.created,
        "all_watched": [i for c in State.lives for i in c.watched],
        "create_refused_429": State.create_refused,
        "drain_seconds": drained,
        "ws": {
            "clients": len(State.lives),
            "connects": sum(c.connects for c in State.lives),
            "closes": sum(len(c.closes) for c in State.lives),
            "updates": sum(c.updates for c in State.lives),
            "snapshots": sum(c.snapshots for c in State.lives),
            "fetches": sum(c.fetches for c in State.lives),
            "errors": [e for c in State.lives for e in c.errors][:50],
            "final_via": final_via,
            "lost_while_connected": len(lost_ids),
            "never_final": [i for c in State.lives for i in c.pending()],
            "client_statuses": statuses,
            "turnaround_s": {
                "p50": pct(turnaround, 0.5),
                "p95": pct(turnaround, 0.95),
                "p99": pct(turnaround, 0.99),
                "max": turnaround[-1] if turnaround else None,
            },
        },
    }
    for client in State.lives:
        threading.Thread(target=client.stop, daemon=True).start()
    path = os.environ.get("LOAD_RESULTS")
    if path:
        Path(path).write_text(json.dumps(results, indent=1, default=str))
    print(
        f"[load] drained in {drained:.1f} s; final on the clients: {final_via}; never final: {len(results['ws']['never_final'])}",
        flush=True,
    )
