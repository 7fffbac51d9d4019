from datetime import timedelta

from django.core.management.base import BaseCommand

from sketches.services import sweep_orphan_objects, sweep_stale_uploads


class Command(BaseCommand):
    help = (
        "Delete unconfirmed or rejected uploads (object and row) older than --hours (default 24), "
        "and stored objects no row points to that are older than that."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=24)

    def handle(self, *args, hours, **options):
        count = sweep_stale_uploads(timedelta(hours=hours))
        orphans = sweep_orphan_objects(timedelta(hours=hours))
        self.stdout.write(f"swept {count} stale uploads and {orphans} orphan objects")
