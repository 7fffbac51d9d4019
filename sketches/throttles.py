"""How many sketches one account may create per period, beside the cap on those running at once."""

import logging

from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)


class SketchCreateThrottle(UserRateThrottle):
    """``THROTTLE_SKETCH_CREATE`` (e.g. ``120/hour``) per user; every create request counts."""

    scope = "sketch_create"

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            # The counters live in the cache. Without it the database's cap (MAX_CONCURRENT_TASKS)
            # still bounds the work, and a sketch created now is enqueued once Redis is back.
            logger.warning("sketch create rate not checked, the cache is unavailable: %s", exc)
            return True


def throttled(wait: float | None) -> exceptions.Throttled:
    rate = SketchCreateThrottle().rate
    return exceptions.Throttled(
        wait,
        detail=f"You have created sketches too quickly (the limit is {rate}). Wait, then create more.",
        code="too_many_sketches",
    )
