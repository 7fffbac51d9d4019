from django.conf import settings
from django.core.management.base import BaseCommand

from sketches.periodic import loop


class Command(BaseCommand):
    help = "Re-enqueue or fail sketches whose job is gone from the queue or stuck past TASK_TIMEOUT."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds instead of running once.")

    def handle(self, *args, every=0, **options):
        if every:
            import threading

            loop(every or settings.RECONCILE_INTERVAL, threading.Event())
            return
        from sketches.reconcile import reconcile

        report = reconcile()
        self.stdout.write(f"reconciled: {report}")
