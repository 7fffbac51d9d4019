"""``/ws``: live news of the user's sketches. The database is the truth; this only carries news.

Delivery over the channel layer is at-most-once, so every connect starts with a snapshot of the
user's unfinished sketches, and every update carries the sketch's full state.
"""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.ws_auth import CLOSE_UNAUTHENTICATED

from . import events

logger = logging.getLogger(__name__)


class SketchConsumer(AsyncJsonWebsocketConsumer):
    group = None

    async def connect(self):
        user = self.scope.get("user")
        # Accept first so that the refusal carries a code the client can act on.
        await self.accept()
        error = self.scope.get("auth_error")
        if error or user is None or not user.is_authenticated:
            code = error or CLOSE_UNAUTHENTICATED
            logger.info("websocket refused with %s", code)
            await self.close(code=code)
            return
        self.group = events.user_group(user.pk)
        # Join before reading the snapshot, so no update falls between the two.
        await self.channel_layer.group_add(self.group, self.channel_name)
        sketches = await database_sync_to_async(events.snapshot)(user)
        await self.send_json({"type": events.SNAPSHOT, "sketches": sketches})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "snapshot":  # a client that suspects it missed news may ask again
            sketches = await database_sync_to_async(events.snapshot)(self.scope["user"])
            await self.send_json({"type": events.SNAPSHOT, "sketches": sketches})
        else:
            await self.send_json({"type": "error", "detail": 'Unknown message type; send {"type": "ping"}.'})

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return await super().decode_json(text_data)
        except (ValueError, RecursionError):  # malformed or absurdly nested: answered as unknown
            return None

    async def sketch_update(self, event):
        await self.send_json({"type": events.UPDATE, "sketch": event["sketch"]})
