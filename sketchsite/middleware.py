"""Project-wide middleware: a request id for every request, and one log line per request."""

import logging
import time
import uuid

from django.conf import settings

logger = logging.getLogger("sketchsite.request")

REQUEST_ID_HEADER = "X-Request-ID"


def _clean_request_id(value: str | None) -> str:
    # Accept the platform's id (Cloud Run sends one) only when it is short and plain.
    if value and len(value) <= 64 and value.replace("-", "").replace("/", "").replace(";", "").replace("=", "").isalnum():
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Tags the request (and the response) with an id that log lines and jobs carry along."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = _clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        started = time.monotonic()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.id
        if not (settings.STATIC_URL and request.path.startswith(settings.STATIC_URL)):
            user = getattr(request, "user", None)
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,  # never the query string: it may carry ?token=
                response.status_code,
                (time.monotonic() - started) * 1000,
                extra={
                    "request_id": request.id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "user_id": getattr(user, "pk", None) if user is not None and user.is_authenticated else None,
                },
            )
        return response
