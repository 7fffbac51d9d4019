"""What each account stores, against ``USER_STORAGE_QUOTA``, and how many uploads it has in flight.

Stored bytes are originals + results + thumbnails. Two kinds of bytes are counted before they
exist, so that the quota holds however fast a client is:

- an upload not confirmed yet counts its declared size: its form lets the browser send exactly
  up to that many bytes, and the object may sit in storage until confirm or the sweep;
- a queued or running sketch counts the most its result and thumbnail can take (see
  ``result_allowance``); once it completes, the sizes the job recorded count instead.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Sketch, Upload

# Encoded bytes per pixel, at most: PNG of RGB noise takes 3.01, JPEG and WebP (quality 100) of
# grey noise 1.6 and 2.3. The thumbnail is a JPEG of at most 480 x 480 pixels.
RESULT_BYTES_PER_PIXEL = 3.05
THUMBNAIL_ALLOWANCE = 480 * 480 * 3 + 64 * 1024


@dataclass(frozen=True)
class Usage:
    originals: int  # confirmed uploads, as stored
    pending: int  # declared sizes of uploads not confirmed yet
    results: int  # completed sketches: result + thumbnail, as the job recorded them
    reserved: int  # what queued and running sketches may still write
    quota: int  # 0: no limit

    @property
    def used(self) -> int:
        return self.originals + self.pending + self.results + self.reserved

    @property
    def free(self) -> int | None:
        return None if not self.quota else max(0, self.quota - self.used)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.quota)) if self.quota else 0

    def as_dict(self) -> dict:
        return {
            "used": self.used,
            "quota": self.quota or None,
            "free": self.free,
            "originals": self.originals,
            "pending": self.pending,
            "results": self.results,
            "reserved": self.reserved,
        }


def result_allowance(width: int | None, height: int | None) -> int:
    """The most a sketch of a ``width`` x ``height`` photo writes: its result and its thumbnail."""
    pixels = (width or 0) * (height or 0) or settings.MAX_IMAGE_PIXELS
    return int(pixels * RESULT_BYTES_PER_PIXEL) + THUMBNAIL_ALLOWANCE


def usage(user) -> Usage:
    uploads = Upload.objects.filter(owner=user).aggregate(
        originals=Coalesce(Sum("size", filter=Q(status=Upload.Status.CONFIRMED)), 0),
        pending=Coalesce(Sum("size", filter=Q(status=Upload.Status.PENDING)), 0),
    )
    results = Sketch.objects.filter(owner=user, status=Sketch.Status.COMPLETED).aggregate(
        results=Coalesce(Sum("result_size"), 0) + Coalesce(Sum("thumbnail_size"), 0)
    )["results"]
    active = Sketch.objects.filter(owner=user, status__in=Sketch.ACTIVE).values_list("upload__width", "upload__height")
    reserved = sum(result_allowance(width, height) for width, height in active)
    return Usage(uploads["originals"], uploads["pending"], results, reserved, settings.USER_STORAGE_QUOTA)


def pending_uploads(user) -> tuple[int, float]:
    """Uploads whose form can still be used, and seconds until the oldest of them expires."""
    window = timedelta(seconds=settings.AWS_PRESIGNED_URL_EXPIRATION)
    since = timezone.now() - window
    live = Upload.objects.filter(owner=user, status=Upload.Status.PENDING, created_at__gt=since)
    oldest = live.order_by("created_at").values_list("created_at", flat=True).first()
    wait = 0.0 if oldest is None else max(1.0, (oldest + window - timezone.now()).total_seconds())
    return live.count(), wait


def human_size(size: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
