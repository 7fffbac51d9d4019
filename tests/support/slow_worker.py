"""``python -m tests.support.slow_worker sketchworker``: a worker whose render stage is slowed down.

(``... slow_worker daphne -p PORT sketchsite.asgi:application`` does the same to an embedded web process.)

Test-only. ``SLOW_RENDER_SECONDS`` of extra render time, spent in small sleeps that report
progress like the real engine does (so heartbeats, cancellation and the cooperative timeout
behave as in a long real job), then the real render. It lets a fault test kill a worker, stop
S3 or restart Redis while a job is surely running, on any machine speed.
"""

import os
import sys
import time


def install(delay: float) -> None:
    from sketches import engine

    real_render = engine.render

    def slow_render(image, style, method, *, progress=None, **options):
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            if progress is not None:
                progress(0.5 * (1 - left / delay), "render")
            time.sleep(min(0.2, left))
        inner = (lambda fraction, stage: progress(0.5 + fraction / 2, stage)) if progress is not None else None
        return real_render(image, style, method, progress=inner, **options)

    engine.render = slow_render


def main() -> None:
    """``slow_worker <manage.py command> ...`` or ``slow_worker daphne <daphne arguments>``."""
    install(float(os.environ.get("SLOW_RENDER_SECONDS", "0") or 0))  # the engine needs no Django
    if sys.argv[1:2] == ["daphne"]:  # the embedded default's web process runs jobs in threads
        from sketchsite.serve import BoundedCommandLine

        BoundedCommandLine().run(sys.argv[2:])
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sketchsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", *sys.argv[1:]])


if __name__ == "__main__":
    main()
