"""A sketch as plain JSON types: the API's representation and the WebSocket's news share it."""

from pathlib import PurePath

from rest_framework import serializers

from .models import Sketch
from .storage import get_storage

# DRF's own datetime formatting (ISO 8601, current time zone), so both faces print times alike.
_datetime = serializers.DateTimeField()


def result_filename(sketch: Sketch) -> str:
    """e.g. "beach-pencil-advanced.jpg": the photo's name, the look, the real extension."""
    stem = PurePath(sketch.upload.original_name or "photo").stem[:80] or "photo"
    return f"{stem}-{sketch.style}-{sketch.method}.{PurePath(sketch.result_key).suffix.lstrip('.') or 'png'}"


def result_url(sketch: Sketch) -> str | None:
    if sketch.status != Sketch.Status.COMPLETED or not sketch.result_key:
        return None
    return get_storage().download_url(sketch.result_key, filename=result_filename(sketch))


def thumbnail_url(sketch: Sketch) -> str | None:
    if sketch.status != Sketch.Status.COMPLETED or not sketch.thumbnail_key:
        return None
    return get_storage().download_url(sketch.thumbnail_key, filename=f"{sketch.style}-{sketch.method}-thumbnail.jpg")


def _time(value) -> str | None:
    return None if value is None else _datetime.to_representation(value)


def sketch_payload(sketch: Sketch) -> dict:
    return {
        "id": str(sketch.pk),
        "task_id": sketch.task_id,
        "upload_id": str(sketch.upload_id),
        "style": sketch.style,
        "method": sketch.method,
        "options": sketch.options,
        "status": str(sketch.status),
        "progress": sketch.progress,
        "stage": sketch.stage,
        "error": sketch.error,
        "error_code": str(sketch.failure_code),
        "attempts": sketch.attempts,
        "result_url": result_url(sketch),
        "thumbnail_url": thumbnail_url(sketch),
        "result_size": sketch.result_size,
        "result_width": sketch.result_width,
        "result_height": sketch.result_height,
        "created_at": _time(sketch.created_at),
        "updated_at": _time(sketch.updated_at),
        "started_at": _time(sketch.started_at),
        "finished_at": _time(sketch.finished_at),
    }
