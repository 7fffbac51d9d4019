"""News of sketches for the owner's WebSocket group ``user-<id>``. Sent after the row is saved."""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from rest_framework.utils.encoders import JSONEncoder

from .models import Sketch

logger = logging.getLogger(__name__)

SNAPSHOT = "sketch.snapshot"
UPDATE = "sketch.update"


def user_group(user_id) -> str:
    return f"user-{user_id}"


def sketch_payload(sketch: Sketch) -> dict:
    """The API's sketch, as plain JSON types (the channel layer and the socket need them)."""
    from .api.serializers import SketchSerializer

    return json.loads(json.dumps(SketchSerializer(sketch).data, cls=JSONEncoder))


def snapshot(user) -> list[dict]:
    unfinished = Sketch.objects.filter(owner=user, status__in=Sketch.ACTIVE).select_related("upload").order_by("created_at")
    return [sketch_payload(s) for s in unfinished]


def publish(sketch: Sketch) -> None:
    """Best effort: a lost message is caught up by the snapshot on the next connect."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "sketch.update", "sketch": sketch_payload(sketch)}
    try:
        async_to_sync(layer.group_send)(user_group(sketch.owner_id), message)
    except Exception:  # Redis down must not fail the job: the database already has the truth
        logger.warning("could not publish update of sketch %s", sketch.pk, exc_info=True)

