"""The server-side record of logins (``AuthSession``): open one, look one up, end some.

A token is only as good as its session: every authenticated request and WebSocket message looks
its ``sid`` up (one indexed query, joined with the user, in place of the user lookup it replaces),
so ending a session takes effect at once. Open sockets of an ended session are told through their
channel group and close with 4401.
"""

import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import AuthSession

logger = logging.getLogger(__name__)

SID_CLAIM = "sid"
ENDED_EVENT = "session.ended"


def group_name(session_id: uuid.UUID) -> str:
    """The channel group of one session's sockets."""
    return f"session-{session_id.hex}"


def parse_id(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(hex=value) if isinstance(value, str) else None
    except ValueError:
        return None


def parse_user_id(value):
    """The primary key a token names, or None when it is not one (a signed ``"user_id": "abc"``)."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    try:
        pk = get_user_model()._meta.pk.to_python(value)
    except ValidationError:
        return None
    if isinstance(pk, int) and not 0 < pk < 2**63:  # past the column's range the database would raise
        return None
    return pk


def open_session(user, *, user_agent: str = "") -> AuthSession:
    return AuthSession.objects.create(user=user, user_agent=(user_agent or "")[:200])


def active_user(session_id, user_id):
    """The active user of an open session, or None. One query."""
    session_id, user_id = parse_id(session_id), parse_user_id(user_id)
    if session_id is None or user_id is None:
        return None
    # The user row alone, joined with its open session: the query simplejwt's lookup would make, plus a join.
    users = get_user_model().objects.filter(
        pk=user_id, is_active=True, auth_sessions__pk=session_id, auth_sessions__ended_at__isnull=True
    )
    return next(iter(users.order_by()[:1]), None)


def is_open(session_id, user_id) -> bool:
    return active_user(session_id, user_id) is not None


def end(sessions, reason: str) -> int:
    """End the open sessions among ``sessions`` (a queryset); their sockets close after the commit."""
    ids = list(sessions.filter(ended_at__isnull=True).values_list("pk", flat=True))
    if not ids:
        return 0
    count = AuthSession.objects.filter(pk__in=ids, ended_at__isnull=True).update(ended_at=timezone.now(), end_reason=reason)
    transaction.on_commit(lambda: close_sockets(ids))
    return count


def end_one(session_id, reason: str) -> int:
    session_id = parse_id(session_id)
    if session_id is None:
        return 0
    return end(AuthSession.objects.filter(pk=session_id), reason)


def end_all(user, reason: str, *, keep=None) -> int:
    sessions = AuthSession.objects.filter(user=user)
    if keep is not None:
        sessions = sessions.exclude(pk=keep)
    return end(sessions, reason)


def flush_expired() -> int:
    """Delete sessions that issued their last token longer ago than a refresh token lives."""
    from django.conf import settings
    from django.db.models import Q

    horizon = timezone.now() - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    stale = AuthSession.objects.filter(Q(refreshed_at__lt=horizon) | Q(refreshed_at__isnull=True, created_at__lt=horizon))
    deleted, _ = stale.delete()
    return deleted


def close_sockets(session_ids) -> None:
    """Best effort: a socket that misses this is closed at its next message, which checks again."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for session_id in session_ids:
            async_to_sync(layer.group_send)(group_name(session_id), {"type": ENDED_EVENT})
    except Exception:  # Redis down must not fail a logout: the database already says it ended
        logger.warning("could not tell the sockets of %d ended session(s)", len(session_ids), exc_info=True)
