from datetime import timedelta

from django.core.management.base import BaseCommand

from sketches.services import sweep_stale_uploads


class Command(BaseCommand):
    help = "Delete unconfirmed or rejected uploads (object and row) older than --hours (default 24)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=24)

    def handle(self, *args, hours, **options):
        count = sweep_stale_uploads(timedelta(hours=hours))
        self.stdout.write(f"swept {count} stale uploads")
