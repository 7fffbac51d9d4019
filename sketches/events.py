"""News of sketches for the owner's WebSocket group ``user-<id>``. Sent after the row is saved."""

import asyncio
import logging

from asgiref.sync import async_to_sync
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


# The web server's event loop, told by the ASGI app (``ServerLoop``) on its first call. Threads
# that are not on it (the in-process worker, the reconciler, request threads) send through it:
# the in-memory channel layer keeps asyncio queues of that loop, and async_to_sync from a thread
# asgiref did not start would run group_send in a loop of its own, touching them from the wrong
# thread (the consumer then noticed news only on its next unrelated wake-up, about a second later).
_server_loop: asyncio.AbstractEventLoop | None = None
SEND_TIMEOUT = 5


class ServerLoop:
    """ASGI wrapper that tells this module which loop serves the sockets."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        global _server_loop
        _server_loop = asyncio.get_running_loop()
        return await self.app(scope, receive, send)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # this thread runs no loop
        return None


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    loop = _server_loop
    if loop is not None and loop.is_running() and _running_loop() is not loop:
        asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(SEND_TIMEOUT)
    else:  # no server here (a worker process, a management command): a loop of its own will do
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
