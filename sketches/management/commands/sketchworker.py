"""A worker process: RQ's worker with its scheduler (for retries), plus the reconciler loop."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from sketches.periodic import start_in_background

WORKER_TTL = 60  # seconds; the worker's heartbeat renews it well within that


class Command(BaseCommand):
    help = "Run an RQ worker on the sketches queue with the scheduler and the periodic reconciler."

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="Stop when the queue is empty (tests).")
        parser.add_argument("--no-reconcile", action="store_true")

    def handle(self, *args, burst=False, no_reconcile=False, **options):
        if not settings.REDIS_URL:
            self.stderr.write("REDIS_URL is not set: the embedded default runs jobs inside the web process.")
            raise SystemExit(2)
        _without_connection_pool()
        _preload()
        if not no_reconcile:
            start_in_background()
        call_command(
            "rqworker",
            settings.SKETCH_QUEUE_NAME,
            with_scheduler=True,
            burst=burst,
            worker_class="sketches.worker.SketchWorker",
            # A killed worker's registration expires after this (RQ's default is 420 s), so
            # /health stops counting it within a minute.
            worker_ttl=WORKER_TTL,
        )


def _without_connection_pool() -> None:
    """Plain connections in the worker: RQ forks a work horse per job, and a pool's connections and
    its maintenance threads do not survive a fork (parent and child would share sockets)."""
    for alias in connections:
        connections[alias].close()
        connections[alias].settings_dict.get("OPTIONS", {}).pop("pool", None)


def _preload() -> None:
    """RQ forks a work horse per job: what the parent has loaded, every job gets for free.

    Without this each job paid for importing OpenCV and the engine and for loading boto3's S3
    model (about a second on a small machine) before touching its image.
    """
    import sketches.jobs  # noqa: F401  (the engine, cv2, numpy)
    from sketches.storage import get_storage

    storage = get_storage()
    if hasattr(storage, "warm_up"):
        storage.warm_up()
