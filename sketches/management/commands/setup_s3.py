from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sketches.storage import get_storage


class Command(BaseCommand):
    help = "Create the S3 bucket if missing and allow browser uploads from ALLOWED_ORIGINS (CORS)."

    def handle(self, *args, **options):
        storage = get_storage()
        if storage.name != "s3":
            raise CommandError("AWS_BUCKET_NAME is not set: the local media storage needs no setup.")
        origins = list(dict.fromkeys([*settings.ALLOWED_ORIGINS, settings.SITE_ORIGIN]))
        storage.ensure_bucket([o for o in origins if o])
        self.stdout.write(f"bucket {storage.bucket} ready; CORS origins: {', '.join(origins) or '*'}")
