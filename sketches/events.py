"""News of sketches for the owner's WebSocket group ``user-<id>``. Sent after the row is saved."""

import asyncio
import logging

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

from .models import Sketch
from .payloads import sketch_payload

logger = logging.getLogger(__name__)

SNAPSHOT = "sketch.snapshot"
UPDATE = "sketch.update"


def user_group(user_id) -> str:
    return f"user-{user_id}"


def snapshot(user) -> list[dict]:
    unfinished = Sketch.objects.filter(owner=user, status__in=Sketch.ACTIVE).select_related("upload").order_by("created_at")
    return [sketch_payload(s) for s in unfinished]


# The web server's event loop, once a socket has connected (see consumers). Threads that
# asgiref did not start (the in-process worker, the reconciler) must send through it: the
# in-memory channel layer keeps asyncio queues of that loop, and async_to_sync from such a
# thread would run group_send in a loop of its own, touching them from the wrong thread (the
# consumer then noticed news only on its next unrelated wake-up, about a second later).
_server_loop: asyncio.AbstractEventLoop | None = None
SEND_TIMEOUT = 5


def remember_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _server_loop
    _server_loop = loop


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    loop = _server_loop
    if loop is not None and loop.is_running() and getattr(SyncToAsync.threadlocal, "main_event_loop", None) is not loop:
        asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(SEND_TIMEOUT)
    else:  # a request thread (asgiref hands it to the server's loop), or a worker process
        async_to_sync(layer.group_send)(group, message)


def publish(sketch: Sketch) -> None:
    """Best effort: a lost message is caught up by the snapshot on the next connect."""
    if get_channel_layer() is None:
        return
    message = {"type": "sketch.update", "sketch": sketch_payload(sketch)}
    try:
        _send(user_group(sketch.owner_id), message)
    except Exception:  # Redis down must not fail the job: the database already has the truth
        logger.warning("could not publish update of sketch %s", sketch.pk, exc_info=True)
