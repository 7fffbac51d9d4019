"""``python -m tests.support.slow_worker sketchworker``: a worker whose render stage is slowed down.

(``... slow_worker daphne -p PORT sketchsite.asgi:application`` does the same to an embedded web process.)

Test-only. ``SLOW_RENDER_SECONDS`` of extra render time, spent in small sleeps that report
progress like the real engine does (so heartbeats, cancellation and the timeout behave as in a
long real job), then the real render. It lets a fault test kill a worker, stop S3 or restart
Redis while a job is surely running, on any machine speed. With ``SLOW_RENDER_SILENT=1`` the
extra time is one call that reports nothing, like a long decode inside libjpeg.
``SLOW_RENDER_MIN_PIXELS`` slows only images at least that big (another user's small sketch
beside a slow one).

The engine runs in child processes (``sketches.engine_process``): the slowdown is installed in
this process (inherited by forked children) and as the initializer of spawned ones.
"""

import os
import sys
import time


def install(delay: float, silent: bool = False, min_pixels: int = 0) -> None:
    from sketches import engine_process

    engine_process.set_child_initializer(_install, delay, silent, min_pixels)
    _install(delay, silent, min_pixels)


def _install(delay: float, silent: bool, min_pixels: int) -> None:
    from sketches import engine

    real_render = engine.render
    if getattr(real_render, "slowed", False):  # a forked child inherits the slowed render
        return

    def slow_render(image, style, method, *, progress=None, **options):
        if image.shape[0] * image.shape[1] < min_pixels:
            return real_render(image, style, method, progress=progress, **options)
        if silent:
            time.sleep(delay)
            return real_render(image, style, method, progress=progress, **options)
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            if progress is not None:
                progress(0.5 * (1 - left / delay), "render")
            time.sleep(min(0.2, left))
        inner = (lambda fraction, stage: progress(0.5 + fraction / 2, stage)) if progress is not None else None
        return real_render(image, style, method, progress=inner, **options)

    slow_render.slowed = True
    engine.render = slow_render


def main() -> None:
    """``slow_worker <manage.py command> ...`` or ``slow_worker daphne <daphne arguments>``."""
    delay = float(os.environ.get("SLOW_RENDER_SECONDS", "0") or 0)
    silent = os.environ.get("SLOW_RENDER_SILENT") == "1"
    install(delay, silent, int(os.environ.get("SLOW_RENDER_MIN_PIXELS", "0") or 0))  # the engine needs no Django
    if sys.argv[1:2] == ["daphne"]:  # the embedded default's web process runs jobs in threads
        from sketchsite.serve import BoundedCommandLine

        BoundedCommandLine().run(sys.argv[2:])
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sketchsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", *sys.argv[1:]])


if __name__ == "__main__":
    main()
