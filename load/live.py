"""A ``/ws`` client that behaves like the pages' static/js/live.js, for the load test and the drills.

* every (re)connect starts with ``sketch.snapshot`` (the user's unfinished sketches);
* watched sketches missing from a snapshot finished while the socket was away: fetched once
  over the API (``GET /api/sketch/{id}``);
* a closed socket is reopened with a short backoff; while it is down, nothing is polled here
  (the caller may), and the snapshot of the next connect catches up.

It records how each watched sketch reached its final state on the client: ``update`` (the
socket carried it), ``snapshot-fetch`` (absent from a snapshot after a reconnect, then fetched),
``resync`` (the caller asked for a fresh snapshot because an update never came: a message lost
while the socket was up). Thread-based on ``websockets.sync``: under locust's gevent
monkey-patching its threads are greenlets.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable

import requests

TERMINAL = ("completed", "failed", "cancelled")
ACTIVE = ("queued", "processing")


class LiveClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        name: str = "live",
        session: requests.Session | None = None,
        on_connect: Callable[[float, BaseException | None], None] | None = None,
        max_backoff: float = 2.0,
        open_timeout: float = 10,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.name = name
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.on_connect = on_connect
        self.max_backoff = max_backoff
        self.open_timeout = open_timeout
        self.lock = threading.Condition()
        self.known: dict[str, dict] = {}  # id -> last state seen (any sketch of the user)
        self.watched: dict[str, float] = {}  # id -> monotonic time it was created
        self.final_via: dict[str, str] = {}  # id -> how the final state arrived
        self.final_at: dict[str, float] = {}  # id -> monotonic time the final state arrived
        self.connects = 0
        self.closes: list[tuple[float, int | None]] = []  # (monotonic time, close code)
        self.updates = 0
        self.snapshots = 0
        self.snapshot_times: list[float] = []  # monotonic time of each snapshot (one per connect)
        self.fetches = 0
        self.errors: list[str] = []
        self._socket = None
        self._stop = threading.Event()
        self._live = threading.Event()
        self._mode = "update"  # how a final state that arrives now is attributed
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ life cycle
    @property
    def url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + f"/ws?token={self.token}"

    def start(self, wait: float | None = 10) -> LiveClient:
        self._thread = threading.Thread(target=self._run, name=f"ws-{self.name}", daemon=True)
        self._thread.start()
        if wait and not self._live.wait(wait):
            raise AssertionError(f"{self.name}: /ws gave no snapshot within {wait} s: {self.errors[-3:]}")
        return self

    def stop(self) -> None:
        self._stop.set()
        socket = self._socket
        if socket is not None:
            try:
                socket.close()
            except Exception:
                pass
        if self._thread is not None:
            self._thread.join(5)

    @property
    def live(self) -> bool:
        return self._live.is_set()

    def wait_live(self, timeout: float) -> bool:
        return self._live.wait(timeout)

    def _run(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        attempt = 0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                with connect(self.url, open_timeout=self.open_timeout, max_size=2**22, close_timeout=2) as socket:
                    self._socket = socket
                    self.connects += 1
                    first = True
                    while not self._stop.is_set():
                        try:
                            raw = socket.recv(timeout=1)
                        except TimeoutError:
                            continue
                        message = json.loads(raw)
                        if first and self.on_connect:
                            self.on_connect(time.monotonic() - started, None)
                        first = False
                        self._handle(message)
                        attempt = 0
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                self.closes.append((time.monotonic(), code))
            except Exception as exc:  # refused while the server is down, a timeout, ...
                self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                if self.on_connect and not self._stop.is_set():
                    self.on_connect(time.monotonic() - started, exc)
            finally:
                self._socket = None
                self._live.clear()
            if self._stop.is_set():
                break
            # like live.js, but shorter: 0.1 s, 0.2 s, ... up to max_backoff, with jitter
            delay = min(self.max_backoff, 0.1 * 2**attempt) * (0.75 + random.random() / 2)
            attempt += 1
            self._stop.wait(delay)

    # ------------------------------------------------------------------ messages
    def _handle(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "sketch.snapshot":
            self.snapshots += 1
            self.snapshot_times.append(time.monotonic())
            present = set()
            for sketch in message.get("sketches", []):
                present.add(sketch["id"])
                self._deliver(sketch, "snapshot")
            with self.lock:
                missing = [i for i in self.watched if i not in present and i not in self.final_via]
                mode = self._mode
            self._live.set()
            if missing:  # finished while we were away (or never heard of): fetch once each
                threading.Thread(
                    target=self._fetch_all, args=(missing, "resync" if mode == "resync" else "snapshot-fetch"), daemon=True
                ).start()
        elif kind == "sketch.update" and message.get("sketch"):
            self.updates += 1
            self._deliver(message["sketch"], "update")

    def _deliver(self, sketch: dict, via: str) -> None:
        with self.lock:
            sketch_id = sketch["id"]
            last = self.known.get(sketch_id)
            if last and last.get("status") in TERMINAL and sketch.get("status") not in TERMINAL:
                return  # an older message arriving late: terminal states never move backwards
            self.known[sketch_id] = sketch
            if sketch.get("status") in TERMINAL and sketch_id not in self.final_via:
                self.final_via[sketch_id] = via if via != "snapshot" else "snapshot-fetch"
                self.final_at[sketch_id] = time.monotonic()
            self.lock.notify_all()

    def _fetch_all(self, ids: list[str], via: str) -> None:
        for sketch_id in ids:
            try:
                response = self.session.get(f"{self.base_url}/api/sketch/{sketch_id}", timeout=30)
                self.fetches += 1
                if response.status_code == 200:
                    self._deliver(response.json(), via)
                else:
                    self.errors.append(f"fetch {sketch_id}: {response.status_code}")
            except Exception as exc:
                self.errors.append(f"fetch {sketch_id}: {type(exc).__name__}: {exc}"[:200])

    # ------------------------------------------------------------------ the caller's side
    def watch(self, sketch: dict) -> None:
        """Follow a sketch the caller just created (its API answer)."""
        with self.lock:
            self.watched.setdefault(sketch["id"], time.monotonic())
        self._deliver(sketch, "update")

    def pending(self) -> list[str]:
        with self.lock:
            return [i for i in self.watched if i not in self.final_via]

    def wait_all_final(self, timeout: float) -> list[str]:
        """Wait until every watched sketch is final on this client; return those still pending."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                pending = [i for i in self.watched if i not in self.final_via]
                left = deadline - time.monotonic()
                if not pending or left <= 0:
                    return pending
                self.lock.wait(min(left, 0.5))

    def resync(self) -> None:
        """Ask for a fresh snapshot (what a client does when it suspects a lost message)."""
        with self.lock:
            self._mode = "resync"
        socket = self._socket
        if socket is not None:
            try:
                socket.send(json.dumps({"type": "snapshot"}))
                return
            except Exception:
                pass
        # no socket: the next connect's snapshot does it

    def send(self, message: dict) -> None:
        self._socket.send(json.dumps(message))

    def close_codes(self) -> list[int | None]:
        return [code for _, code in self.closes]
