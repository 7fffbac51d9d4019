"""sketches.engine_process: the engine in a child process that is killed at the deadline.

The long call is real: a progressive-JPEG scan bomb decoded with the scan limit lifted keeps
libjpeg busy for minutes in one C call, which no thread or signal handler could interrupt.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import time

import pytest

from sketches import engine_process
from sketches.engine import ImageTooComplex, UnsupportedImage, decode
from tests.engine.conftest import image_bytes, synthetic_rgb
from tests.support.scan_bomb import scan_bomb


def lift_scan_limit() -> None:
    """Child initializer: the engine as it was before the scan limit."""
    from sketches import engine

    engine.decode = functools.partial(engine.decode, max_scans=10**9)


def conversion(data: bytes, **changes) -> engine_process.Conversion:
    fields = dict(style="ink", method="basic", strength=0.5, detail=0.5, seed=0, format="png", quality=90)
    fields.update(max_pixels=50_000_000, thumbnail_side=48, **changes)
    return engine_process.Conversion(data=data, **fields)


@pytest.fixture
def pool():
    pools = []

    def make(initializer=None):
        made = engine_process.EnginePool(initializer)
        pools.append(made)
        return made

    yield make
    for made in pools:
        made.close()


@pytest.fixture(scope="module")
def photo() -> bytes:
    return image_bytes(synthetic_rgb(), "JPEG", quality=90)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return scan_bomb(7000, 7000, 10_000)


def test_converts_as_the_engine_does_in_process(pool, photo):
    reports = []
    converted = pool().run(conversion(photo), lambda stage, fraction: reports.append((stage, fraction)), time.monotonic() + 60)
    inline = engine_process.convert(conversion(photo), lambda stage, fraction: None)
    assert converted == inline
    assert decode(converted.encoded).shape[:2] == (converted.height, converted.width)
    assert [stage for stage, _ in reports][:1] == ["decode"] and reports[-1][0] == "encode"
    assert [f for stage, f in reports if stage == "render"] == sorted(f for stage, f in reports if stage == "render")


def test_a_warm_child_is_reused(pool, photo):
    engines = pool()
    engines.run(conversion(photo), lambda *_: None, time.monotonic() + 60)
    (child,) = engines._idle
    engines.run(conversion(photo), lambda *_: None, time.monotonic() + 60)
    assert engines._idle == [child] and child.process.is_alive()


def test_the_engines_errors_come_back_as_they_are_and_the_child_stays(pool, bomb):
    engines = pool()
    with pytest.raises(UnsupportedImage):
        engines.run(conversion(b"<html>not an image</html>"), lambda *_: None, time.monotonic() + 60)
    with pytest.raises(ImageTooComplex) as refused:
        engines.run(conversion(bomb), lambda *_: None, time.monotonic() + 60)
    assert "more than 100 progressive scans" in str(refused.value)
    assert len(engines._idle) == 1 and engines._idle[0].process.is_alive()


def test_a_long_c_call_is_killed_at_the_deadline(pool, bomb, photo):
    engines = pool(lift_scan_limit)
    child = warm_child(engines)
    reports = []
    started = time.monotonic()
    with pytest.raises(engine_process.DeadlineExceeded):
        engines.run(conversion(bomb), lambda stage, fraction: reports.append(time.monotonic()), started + 2)
    stopped = time.monotonic() - started
    assert 2 <= stopped < 3, f"stopped after {stopped:.2f} s"
    # The caller heard from the job every TICK_SECONDS while libjpeg was busy (its heartbeat).
    assert len(reports) >= 2 and max(b - a for a, b in zip(reports, reports[1:], strict=False)) <= 1.5
    assert not _alive(child)  # the killed child is gone, and a successor is already waiting
    (successor,) = engines._idle
    assert successor.process.pid != child and successor.process.is_alive()
    assert engines.run(conversion(photo), lambda *_: None, time.monotonic() + 60).width == 64
    assert engines._idle == [successor]


def test_what_the_report_callback_raises_stops_the_child(pool, bomb):
    """A cancelled sketch: the job's progress callback raises, and the CPU is freed at once."""

    class Cancelled(Exception):
        pass

    engines = pool(lift_scan_limit)
    child = warm_child(engines)

    def cancel_after_a_second(stage, fraction):
        if time.monotonic() - started > 1:
            raise Cancelled()

    started = time.monotonic()
    with pytest.raises(Cancelled):
        engines.run(conversion(bomb), cancel_after_a_second, started + 60)
    assert time.monotonic() - started < 3
    assert not _alive(child)


def test_a_child_that_dies_is_reported_and_replaced(pool, bomb, photo):
    engines = pool(lift_scan_limit)
    killer = threading.Timer(1.0, os.kill, (warm_child(engines), signal.SIGKILL))  # as the OOM killer would
    killer.start()
    with pytest.raises(engine_process.EngineCrashed, match="exit code -9"):
        engines.run(conversion(bomb), lambda *_: None, time.monotonic() + 60)
    assert engines.run(conversion(photo), lambda *_: None, time.monotonic() + 60).width == 64


def warm_child(engines: engine_process.EnginePool) -> int:
    """Start the pool's one child now and return its pid (the next run uses it)."""
    engines.warm(1)
    (child,) = engines._idle
    return child.process.pid


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
