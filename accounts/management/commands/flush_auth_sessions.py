"""Delete the login sessions no token can belong to any more (run it daily, like flushexpiredtokens)."""

from django.core.management.base import BaseCommand

from accounts import sessions


class Command(BaseCommand):
    help = "Delete login sessions whose every refresh token has expired (ended ones included)."

    def handle(self, *args, **options):
        count = sessions.flush_expired()
        self.stdout.write(f"{count} expired login session(s) deleted.")
