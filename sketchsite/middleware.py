"""``RequestIdMiddleware``: a request id for every request (a context variable that log lines and
jobs pick up), one log line per request, and the request metrics."""

import logging
import re
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
