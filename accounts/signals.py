"""A deactivated account is logged out everywhere, however it was deactivated (admin form, shell, action)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from . import sessions
from .models import AuthSession, User


@receiver(post_save, sender=User, dispatch_uid="accounts.end_sessions_of_inactive_users")
def end_sessions_of_inactive_users(sender, instance, **kwargs):
    if not instance.is_active:
        sessions.end_all(instance, AuthSession.EndReason.DEACTIVATED)
