"""Run the engine in a child process that is killed at the job's deadline.

A hostile or huge image can keep one C call (libjpeg's decode, an OpenCV filter) busy for a
minute. Neither a thread nor a Python signal handler can interrupt that call: the timeout only
lands when it returns. So the job sends the photo's bytes to a child, relays the child's
progress, and kills the child when the deadline passes (or when the caller's progress callback
raises, e.g. because the sketch was cancelled). A killed child is replaced by a fresh one for
the next job; a healthy one stays warm and is reused.

Start method: ``fork`` when this process has a single thread (an RQ work horse: cheap, and the
engine is already imported), ``spawn`` otherwise (daphne runs threads, which must never be
forked). No Django here: the child imports only ``sketches.engine``.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TICK_SECONDS = 1.0  # how often the parent calls ``report`` while the child is silent
PROGRESS_INTERVAL = 0.1  # the child sends at most this often within one stage


class DeadlineExceeded(Exception):
    """The conversion ran past its deadline; the child has been killed."""


class EngineCrashed(Exception):
    """The child died without an answer (killed by the kernel's OOM killer, a crash in C)."""


@dataclass(frozen=True)
class Conversion:
    """One photo to turn into a drawing, plus a JPEG preview of it."""

    data: bytes
    style: str
    method: str
    strength: float
    detail: float
    seed: int
    format: str
    quality: int
    max_pixels: int
    thumbnail_side: int


@dataclass(frozen=True)
class Converted:
    encoded: bytes
    preview: bytes
    width: int
    height: int


def convert(job: Conversion, report: Callable[[str, float], None]) -> Converted:
    """Decode, render, encode: the work done inside the child (callable in-process too)."""
    from . import engine

    report("decode", 0.0)
    image = engine.decode(job.data, job.max_pixels)
    report("render", 0.0)
    drawing = engine.render(
        image,
        job.style,
        job.method,
        strength=job.strength,
        detail=job.detail,
        seed=job.seed,
        progress=lambda fraction, _stage: report("render", fraction),
    )
    del image
    report("encode", 0.0)
    encoded = engine.encode(drawing, job.format, job.quality)
    preview = engine.encode(engine.thumbnail(drawing, job.thumbnail_side), "jpeg", 82)
    height, width = drawing.shape[:2]
    return Converted(encoded, preview, width, height)


class _Reporter:
    """The child's side of progress: a message per stage change, at most every PROGRESS_INTERVAL within one."""

    def __init__(self, conn):
        self.conn, self.stage, self.sent_at = conn, None, 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if stage == self.stage and now - self.sent_at < PROGRESS_INTERVAL:
            return
        self.stage, self.sent_at = stage, now
        self.conn.send(("progress", stage, fraction))


def _child_main(conn, initializer, initargs) -> None:
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        try:
            answer = ("done", convert(job, _Reporter(conn)))
        except Exception as exc:  # engine errors and MemoryError go back to the parent as they are
            answer = ("error", exc)
        try:
            conn.send(answer)
        except Exception as exc:  # an exception that does not pickle
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


class _Child:
    def __init__(self, context, initializer, initargs):
        self.conn, child_end = context.Pipe()
        self.process = context.Process(
            target=_child_main, args=(child_end, initializer, initargs), name="sketch-engine", daemon=True
        )
        self.process.start()
        child_end.close()
        self.healthy = True

    def run(self, job: Conversion, report: Callable[[str, float], None], deadline: float) -> Converted:
        self.healthy = False  # until it answers
        try:
            self.conn.send(job)
        except OSError as exc:
            raise EngineCrashed(f"the engine process is gone ({exc})") from None
        stage, fraction = "decode", 0.0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeadlineExceeded()
            if self.conn.poll(min(TICK_SECONDS, left)):
                try:
                    message = self.conn.recv()
                except (EOFError, OSError):
                    self.process.join(1)
                    raise EngineCrashed(f"the engine process stopped (exit code {self.process.exitcode})") from None
                if message[0] == "done":
                    self.healthy = True
                    return message[1]
                if message[0] == "error":
                    self.healthy = True
                    raise message[1]
                stage, fraction = message[1], message[2]
            report(stage, fraction)

    def kill(self) -> None:
        self.healthy = False
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


class EnginePool:
    """Warm engine processes, one per concurrent job; a child that was killed is replaced."""

    def __init__(self, initializer: Callable | None = None, initargs: tuple = ()):
        self.initializer, self.initargs = initializer, initargs
        self._idle: list[_Child] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def run(self, job: Conversion, report: Callable[[str, float], None], deadline: float) -> Converted:
        """Convert ``job`` in a child. ``report(stage, fraction)`` gets every progress message and
        is called at least every ``TICK_SECONDS``; whatever it raises stops (kills) the child and
        propagates. Raises ``DeadlineExceeded`` at ``deadline`` (``time.monotonic()``),
        ``EngineCrashed`` if the child dies, and the engine's own errors as they are."""
        child = self._acquire()
        try:
            return child.run(job, report, deadline)
        finally:
            if child.healthy:
                with self._lock:
                    self._idle.append(child)
            else:
                child.kill()
                self._replace()

    def _replace(self) -> None:
        # Start the successor now: a spawned child needs most of a second for its imports,
        # which the next job would otherwise wait for.
        try:
            replacement = self._start()
        except OSError:  # out of processes or memory: the next job tries again
            return
        with self._lock:
            self._idle.append(replacement)

    def warm(self, count: int = 1) -> None:
        """Start children now, so that the first jobs do not wait for their imports."""
        with self._lock:
            self._forget_if_forked()
            missing = count - len(self._idle)
        started = [self._start() for _ in range(max(0, missing))]
        with self._lock:
            self._idle.extend(started)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for child in idle:
            child.kill()

    def _acquire(self) -> _Child:
        with self._lock:
            self._forget_if_forked()
            while self._idle:
                child = self._idle.pop()
                if child.process.is_alive():
                    return child
                child.kill()
        return self._start()

    def _start(self) -> _Child:
        # One thread (an RQ work horse): fork is cheap and safe. Otherwise spawn a fresh interpreter.
        method = "fork" if threading.active_count() == 1 else "spawn"
        return _Child(multiprocessing.get_context(method), self.initializer, self.initargs)

    def _forget_if_forked(self) -> None:
        # A forked copy of this pool (a work horse) must not share its parent's pipes.
        if self._pid != os.getpid():
            self._idle, self._pid = [], os.getpid()


_pool: EnginePool | None = None
_pool_lock = threading.Lock()
_initializer: tuple[Callable | None, tuple] = (None, ())


def set_child_initializer(function: Callable | None, *args) -> None:
    """Run ``function(*args)`` first in every engine process started from now on (tools and
    tests that adjust the engine, as ``multiprocessing.Pool``'s ``initializer``)."""
    global _initializer, _pool
    with _pool_lock:
        _initializer = (function, args)
        _pool = None


def pool() -> EnginePool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = EnginePool(*_initializer)
        return _pool
