"""How many sketches one account may create per period, beside the cap on those running at once."""

from rest_framework import exceptions
from rest_framework.throttling import UserRateThrottle


class SketchCreateThrottle(UserRateThrottle):
    """``THROTTLE_SKETCH_CREATE`` (e.g. ``120/hour``) per user; every create request counts."""

    scope = "sketch_create"


def throttled(wait: float | None) -> exceptions.Throttled:
    rate = SketchCreateThrottle().rate
    return exceptions.Throttled(
        wait,
        detail=f"You have created sketches too quickly (the limit is {rate}). Wait, then create more.",
        code="too_many_sketches",
    )
