"""A worker process: RQ's worker with its scheduler (for retries), plus the reconciler loop."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from sketches.periodic import start_in_background


class Command(BaseCommand):
    help = "Run an RQ worker on the sketches queue with the scheduler and the periodic reconciler."

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="Stop when the queue is empty (tests).")
        parser.add_argument("--no-reconcile", action="store_true")

    def handle(self, *args, burst=False, no_reconcile=False, **options):
        if not settings.REDIS_URL:
            self.stderr.write("REDIS_URL is not set: the embedded default runs jobs inside the web process.")
            raise SystemExit(2)
        if not no_reconcile:
            start_in_background()
        call_command("rqworker", settings.SKETCH_QUEUE_NAME, with_scheduler=True, burst=burst)
