"""Background loops that keep the queue honest: the reconciler and the upload sweeper."""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(hours=1)


def run_once() -> None:
    from .reconcile import reconcile

    report = reconcile()
    if report.requeued or report.failed:
        logger.info("reconciler: %s", report)


def loop(interval: float, stop: threading.Event) -> None:
    from .services import sweep_orphan_objects, sweep_stale_uploads

    last_sweep = 0.0
    while not stop.wait(interval):
        try:
            run_once()
            if time.monotonic() - last_sweep > SWEEP_EVERY.total_seconds():
                sweep_stale_uploads()
                sweep_orphan_objects()
                last_sweep = time.monotonic()
        except Exception:  # a database or Redis outage: try again next round
            logger.warning("periodic reconcile failed", exc_info=True)
        finally:
            close_old_connections()


_started = threading.Event()


def start_in_background(interval: float | None = None) -> threading.Event:
    """Start the loop once per process, as a daemon thread. Returns the event that stops it."""
    stop = threading.Event()
    if _started.is_set():
        return stop
    _started.set()
    thread = threading.Thread(
        target=loop, args=(interval or settings.RECONCILE_INTERVAL, stop), name="sketch-reconciler", daemon=True
    )
    thread.start()
    return stop
