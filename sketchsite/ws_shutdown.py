"""Close open WebSockets properly when the web server stops.

Daphne cancels the application instances and drops the TCP connections when it stops; behind a
proxy, clients may then notice only after their own timeouts. ``CloseWebSocketsOnShutdown``
sends a proper close frame first (code 4503: the server is going away, reconnect), which the
pages answer by reconnecting (to another instance) and catching up from the snapshot. Daphne
still listens for a moment after that (while the frames go out): a socket that connects then
gets the same 4503 at once, without reaching the app, instead of a snapshot and a dropped
connection.
"""

import asyncio
import logging

from . import server_shutdown

logger = logging.getLogger("sketchsite.request")


class CloseWebSocketsOnShutdown:
    """ASGI wrapper for the websocket router: on the server's shutdown, close every open socket."""

    # 4503: "unavailable, come back" (autobahn lets a server send only 1000 or 3000-4999, so not
    # the standard 1012 "service restart"); clients reconnect, reaching another instance.
    CLOSE_CODE = 4503
    FLUSH_SECONDS = 0.3

    def __init__(self, app):
        self.app = app
        self.open: set = set()
        self.stopping = False
        server_shutdown.register(self.close_all)

    async def close_all(self) -> None:
        self.stopping = True
        sends = list(self.open)
        self.open.clear()
        if not sends:
            return
        logger.info("closing %d websocket(s) for shutdown", len(sends))
        await asyncio.gather(*(self._close(send) for send in sends))
        await asyncio.sleep(self.FLUSH_SECONDS)  # let the frames go out before daphne drops the connections

    def _close_message(self) -> dict:
        return {"type": "websocket.close", "code": self.CLOSE_CODE, "reason": "server restarting"}

    async def _close(self, send) -> None:
        try:
            await send(self._close_message())
        except Exception:  # the socket went away meanwhile
            logger.debug("could not close a websocket for shutdown", exc_info=True)

    async def _turn_away(self, receive, send) -> None:
        """4503 for a socket that connects while the server stops; the app never sees it.

        Accepted first: a close before the accept becomes a bare HTTP 403 at the handshake, which
        a client cannot tell from a refusal (the consumer refuses with 4401/4403 the same way).
        """
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send(self._close_message())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        if self.stopping:
            return await self._turn_away(receive, send)
        registered = False

        async def tracking_send(message):
            nonlocal registered
            if message["type"] == "websocket.accept":
                self.open.add(send)
                registered = True
            elif message["type"] == "websocket.close":
                self.open.discard(send)
            await send(message)

        try:
            return await self.app(scope, receive, tracking_send)
        finally:
            if registered:
                self.open.discard(send)
