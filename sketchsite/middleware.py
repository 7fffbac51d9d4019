"""Project-wide middleware.

* ``RequestIdMiddleware``: a request id for every request (a context variable that log lines and
  jobs pick up), one log line per request, and the request metrics.
* ``ContentSecurityPolicyMiddleware``: the Content-Security-Policy header of every response.
* ``CloseWebSocketsOnShutdown``: an ASGI wrapper that sends open sockets a close frame (4503,
  "server restarting") when daphne shuts down, so clients reconnect instead of waiting on a
  dead TCP connection, and turns away sockets that connect while it shuts down.
"""

import asyncio
import logging
import re
import sys
import time
import uuid

from django.conf import settings

from .logging import request_id_var

logger = logging.getLogger("sketchsite.request")

REQUEST_ID_HEADER = "X-Request-ID"
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._:=/;-]{1,64}$")


def _clean_request_id(value: str | None) -> str | None:
    # Accept an upstream id only when it is short and plain: it goes into logs and headers.
    if value and _PLAIN_ID.match(value):
        return value
    return None


def request_id_for(request) -> str:
    """The client's X-Request-ID, else Cloud Run's trace id, else a fresh one."""
    trace = (request.headers.get("X-Cloud-Trace-Context") or "").split("/", 1)[0]
    return (
        _clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        or _clean_request_id(trace if len(trace) >= 16 else None)
        or uuid.uuid4().hex
    )


def route_of(request) -> str:
    """The URL pattern that served the request: a bounded label, never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + match.route.lstrip("^").rstrip("$")
    if settings.STATIC_URL and request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


class RequestIdMiddleware:
    """Tags the request (and the response) with an id that log lines and jobs carry along."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = request_id_for(request)
        token = request_id_var.set(request.id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.id
            duration = time.monotonic() - started
            self._record(request, response.status_code, duration)
            return response
        finally:
            request_id_var.reset(token)

    @staticmethod
    def _record(request, status: int, duration: float) -> None:
        from . import metrics

        route = route_of(request)
        metrics.observe_request(request.method, route, status, duration)
        if route == "static":
            return
        user = getattr(request, "user", None)
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,  # never the query string: it may carry ?token=
            status,
            duration * 1000,
            extra={
                "request_id": request.id,
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": status,
                "duration_ms": round(duration * 1000, 1),
                "user_id": getattr(user, "pk", None) if user is not None and user.is_authenticated else None,
            },
        )


class ContentSecurityPolicyMiddleware:
    """Adds ``settings.CSP_HEADER_VALUE`` (or a per-path override) unless the view set its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = (
            "Content-Security-Policy-Report-Only" if getattr(settings, "CSP_REPORT_ONLY", False) else "Content-Security-Policy"
        )

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CSP_HEADER_VALUE
        for prefix, override in getattr(settings, "CSP_PATH_OVERRIDES", {}).items():
            if request.path.startswith(prefix):
                policy = override
                break
        if policy and "Content-Security-Policy" not in response and "Content-Security-Policy-Report-Only" not in response:
            response[self.header] = policy
        return response


class CloseWebSocketsOnShutdown:
    """ASGI wrapper for the websocket router: on daphne's shutdown, close every open socket.

    Daphne cancels the application instances and drops the TCP connections when it stops;
    behind a proxy, clients may then notice only after their own timeouts. This sends a proper
    close frame first (code 4503: the server is going away, reconnect), which the pages answer by
    reconnecting (to another instance) and catching up from the snapshot. Daphne still listens
    for a moment after that (while the frames go out): a socket that connects then gets the same
    4503 at once, without reaching the app, instead of a snapshot and a dropped connection.
    """

    # 4503: "unavailable, come back" (autobahn lets a server send only 1000 or 3000-4999, so not
    # the standard 1012 "service restart"); clients reconnect, reaching another instance.
    CLOSE_CODE = 4503
    FLUSH_SECONDS = 0.3

    def __init__(self, app):
        self.app = app
        self.open: set = set()
        self.stopping = False
        self._hooked = False
        # Under daphne the reactor is installed before the app is loaded: hook now, so that the
        # shutdown is seen even when no socket had connected before it.
        self._hook_shutdown()

    def _hook_shutdown(self) -> None:
        if self._hooked:
            return
        # Daphne's reactor, if one is installed (importing twisted.internet.reactor would install one).
        reactor = sys.modules.get("twisted.internet.reactor")
        if reactor is None or not hasattr(reactor, "addSystemEventTrigger"):
            return  # not under daphne (tests' in-process communicators)
        self._hooked = True
        reactor.addSystemEventTrigger("before", "shutdown", self.close_all)

    def close_all(self):
        self.stopping = True
        sends = list(self.open)
        self.open.clear()
        if not sends:
            return None
        logger.info("closing %d websocket(s) for shutdown", len(sends))
        for send in sends:
            asyncio.ensure_future(self._close(send))
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        return deferLater(reactor, self.FLUSH_SECONDS, lambda: None)  # let the frames go out

    def _close_message(self) -> dict:
        return {"type": "websocket.close", "code": self.CLOSE_CODE, "reason": "server restarting"}

    async def _close(self, send) -> None:
        try:
            await send(self._close_message())
        except Exception:  # the socket went away meanwhile
            logger.debug("could not close a websocket for shutdown", exc_info=True)

    async def _turn_away(self, receive, send) -> None:
        """4503 for a socket that connects while daphne stops; the app never sees it.

        Accepted first: a close before the accept becomes a bare HTTP 403 at the handshake, which
        a client cannot tell from a refusal (the consumer refuses with 4401/4403 the same way).
        """
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send(self._close_message())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        self._hook_shutdown()
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
