"""``/ws``: live news of the user's sketches. The database is the truth; this only carries news.

Delivery over the channel layer is at-most-once, so every connect starts with a snapshot of the
user's unfinished sketches, and every update carries the sketch's full state.
"""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts import sessions
from accounts.ws_auth import CLOSE_UNAUTHENTICATED

from . import events

logger = logging.getLogger(__name__)

# RFC 6455's 1003 (unsupported data) in the private-use range: daphne hands the close code to
# autobahn's sendClose, which accepts only 1000 and 3000-4999 from applications (daphne#374,
# autobahn-python#1642), so a 1003 from here would itself fail with 1011 and a traceback.
CLOSE_UNSUPPORTED_DATA = 4003


class SketchConsumer(AsyncJsonWebsocketConsumer):
    group = None
    session_group = None

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
        # Logout, log out everywhere, a password change or deactivation end the login: its group hears of it.
        self.session_group = sessions.group_name(self.scope["auth_session_id"])
        await self.channel_layer.group_add(self.session_group, self.channel_name)
        # Join before reading the snapshot, so no update falls between the two.
        await self.channel_layer.group_add(self.group, self.channel_name)
        sketches = await database_sync_to_async(events.snapshot)(user)
        await self.send_json({"type": events.SNAPSHOT, "sketches": sketches})

    async def disconnect(self, code):
        for group in (self.group, self.session_group):
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            # The protocol is JSON text: a binary frame is the client's mistake, not a server error.
            await self.close(code=CLOSE_UNSUPPORTED_DATA)
            return
        await super().receive(text_data=text_data, **kwargs)

    async def receive_json(self, content, **kwargs):
        # The news of an ended session may have been lost (at-most-once): every message checks again.
        if not await database_sync_to_async(sessions.is_open)(self.scope["auth_session_id"], self.scope["user"].pk):
            await self.session_ended({})
            return
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

    async def session_ended(self, event):
        logger.info("websocket closed: its session ended")
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def sketch_update(self, event):
        await self.send_json({"type": events.UPDATE, "sketch": event["sketch"]})
