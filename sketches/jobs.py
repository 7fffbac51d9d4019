"""The sketch job: claim the row, download, decode, render, encode, upload, finish.

Every step saves progress to the database first and then tells the owner's socket. The job is
idempotent: it claims its row with a conditional update, so a second run of the same job (a
retry, a re-enqueue, a duplicate) does nothing once another run has the row or it has ended.
"""

import logging
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from . import engine, engine_process, events
from .models import Sketch
from .storage import ObjectMissing, StorageError, get_storage

logger = logging.getLogger(__name__)

# Share of the progress bar for each stage: (start, end) in percent.
STAGES = {"download": (0, 10), "decode": (10, 20), "render": (20, 85), "encode": (85, 92), "upload": (92, 99)}
HEARTBEAT_SECONDS = 5.0  # the reconciler treats a silent running job as lost after SKETCH_STALE_AFTER
MIN_PUBLISH_INTERVAL = 0.25
THUMBNAIL_SIDE = 480  # px, the longer side of the gallery's preview JPEG


class Cancelled(Exception):
    """The row left ``processing`` under us: deleted, cancelled or failed by someone else."""


class TimedOut(Exception):
    pass


@dataclass
class RenderOptions:
    strength: float = 0.5
    detail: float = 0.5
    seed: int = 0
    format: str = "png"
    quality: int = 90

    @classmethod
    def from_sketch(cls, sketch: Sketch) -> "RenderOptions":
        known = {k: v for k, v in (sketch.options or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


class Progress:
    """Saves progress to the row (only while we still own it) and then publishes it."""

    def __init__(self, sketch: Sketch, deadline: float):
        self.sketch = sketch
        self.deadline = deadline
        # claim() has just saved and announced this state: do not send it twice.
        self.last_percent = sketch.progress
        self.last_stage = sketch.stage or None
        self.last_saved = time.monotonic()

    def stage(self, name: str, fraction: float = 0.0) -> None:
        start, end = STAGES[name]
        self.report(start + (end - start) * min(max(fraction, 0.0), 1.0), name)

    def report(self, percent: float, stage: str) -> None:
        now = time.monotonic()
        if now > self.deadline:
            raise TimedOut()
        percent = int(percent)
        quiet = now - self.last_saved
        if (
            stage == self.last_stage
            and quiet < HEARTBEAT_SECONDS
            and (percent - self.last_percent < 2 or quiet < MIN_PUBLISH_INTERVAL)
        ):
            return
        saved = Sketch.objects.filter(pk=self.sketch.pk, status=Sketch.Status.PROCESSING).update(
            progress=percent, stage=stage, updated_at=timezone.now()
        )
        if not saved:
            raise Cancelled()
        self.sketch.progress, self.sketch.stage = percent, stage
        self.last_percent, self.last_stage, self.last_saved = percent, stage, now
        events.publish(self.sketch)


def claim(sketch_id: str) -> Sketch | None:
    """queued → processing, once. Returns None when someone else has it or it has ended."""
    now = timezone.now()
    claimed = Sketch.objects.filter(pk=sketch_id, status=Sketch.Status.QUEUED).update(
        status=Sketch.Status.PROCESSING,
        stage="download",
        progress=0,
        error="",
        started_at=now,
        updated_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    sketch = Sketch.objects.select_related("upload").get(pk=sketch_id)
    events.publish(sketch)
    return sketch


def finish(
    sketch: Sketch, *, result_key: str, size: int, width: int, height: int, thumbnail_key: str = "", thumbnail_size: int = 0
) -> bool:
    now = timezone.now()
    done = Sketch.objects.filter(pk=sketch.pk, status=Sketch.Status.PROCESSING).update(
        status=Sketch.Status.COMPLETED,
        progress=100,
        stage="",
        result_key=result_key,
        result_size=size,
        result_width=width,
        result_height=height,
        thumbnail_key=thumbnail_key,
        thumbnail_size=thumbnail_size or None,
        finished_at=now,
        updated_at=now,
    )
    if done:
        sketch.refresh_from_db()
        events.publish(sketch)
    return bool(done)


def fail(sketch_id, reason: str) -> bool:
    """Any non-terminal state → failed. Terminal states never move backwards."""
    now = timezone.now()
    failed = Sketch.objects.filter(pk=sketch_id, status__in=Sketch.ACTIVE).update(
        status=Sketch.Status.FAILED, error=reason[:500], stage="", finished_at=now, updated_at=now
    )
    if failed:
        events.publish(Sketch.objects.get(pk=sketch_id))
    return bool(failed)


def release_for_retry(sketch: Sketch, reason: str) -> None:
    """Hand the row back to the queue so that the retry can claim it."""
    Sketch.objects.filter(pk=sketch.pk, status=Sketch.Status.PROCESSING).update(
        status=Sketch.Status.QUEUED, stage="", progress=0, error=f"Retrying: {reason}"[:500], updated_at=timezone.now()
    )
    sketch.refresh_from_db()
    events.publish(sketch)


class SourceChanged(Exception):
    """The stored original is no longer the file that confirm checked."""


def read_original(sketch: Sketch) -> bytes:
    """The upload's bytes, provided they are still what confirm checked (size and ETag)."""
    storage = get_storage()
    upload = sketch.upload
    info = storage.head(upload.key)
    if (upload.size is not None and info.size != upload.size) or (upload.etag and info.etag != upload.etag):
        raise SourceChanged()
    data = storage.read(upload.key)
    if upload.size is not None and len(data) != upload.size:
        raise SourceChanged()  # replaced between the HEAD and the read
    return data


def render_sketch(sketch: Sketch, progress: Progress) -> None:
    storage = get_storage()
    options = RenderOptions.from_sketch(sketch)
    progress.stage("download")
    data = read_original(sketch)
    progress.stage("decode")
    conversion = engine_process.Conversion(
        data=data,
        style=sketch.style,
        method=sketch.method,
        strength=options.strength,
        detail=options.detail,
        seed=options.seed,
        format=options.format,
        quality=options.quality,
        max_pixels=settings.MAX_IMAGE_PIXELS,
        thumbnail_side=THUMBNAIL_SIDE,
    )
    del data
    # In a child process that is killed at the deadline: a long C call cannot outlive TASK_TIMEOUT.
    converted = engine_process.pool().run(conversion, progress.stage, progress.deadline)
    del conversion
    progress.stage("upload")
    extension = "jpg" if options.format == "jpeg" else options.format
    # A fresh name per run: a duplicate run cleaning up after itself never deletes the winner's file.
    result_key = f"results/{sketch.owner_id}/{sketch.pk}-{uuid.uuid4().hex[:8]}.{extension}"
    thumbnail_key = result_key.rsplit(".", 1)[0] + "-thumb.jpg"
    storage.write(result_key, converted.encoded, engine.MIME_TYPES[options.format])
    storage.write(thumbnail_key, converted.preview, "image/jpeg")
    done = finish(
        sketch,
        result_key=result_key,
        size=len(converted.encoded),
        width=converted.width,
        height=converted.height,
        thumbnail_key=thumbnail_key,
        thumbnail_size=len(converted.preview),
    )
    if not done:
        # Deleted or cancelled while we worked: leave nothing behind.
        storage.delete(result_key)
        storage.delete(thumbnail_key)


def run_sketch(sketch_id: str) -> str:
    """The RQ job. Transient storage errors are raised so that RQ retries the job."""
    from rq.timeouts import JobTimeoutException

    close_old_connections()
    sketch = claim(sketch_id)
    if sketch is None:
        return "skipped"
    started = time.monotonic()
    progress = Progress(sketch, deadline=started + settings.TASK_TIMEOUT)
    log = {"sketch_id": str(sketch.pk), "request_id": sketch.request_id, "style": sketch.style, "method": sketch.method}
    try:
        render_sketch(sketch, progress)
    except Cancelled:
        logger.info("sketch %s was cancelled while running", sketch.pk, extra=log)
        return "cancelled"
    except (TimedOut, engine_process.DeadlineExceeded, JobTimeoutException):
        fail(sketch.pk, f"The conversion timed out after {settings.TASK_TIMEOUT} s.")
        return "timed out"
    except ObjectMissing:
        fail(sketch.pk, "The original photo is no longer in storage; upload it again.")
        return "failed"
    except SourceChanged:
        logger.warning("sketch %s: the stored original changed after confirm", sketch.pk, extra=log)
        fail(sketch.pk, "The original photo was changed in storage after it was confirmed; upload it again.")
        return "failed"
    except engine_process.EngineCrashed as exc:
        logger.error("sketch %s: %s", sketch.pk, exc, extra=log)
        fail(sketch.pk, "The conversion process stopped unexpectedly (the image may need more memory than this server has).")
        return "failed"
    except StorageError as exc:
        logger.warning("sketch %s: storage error, will retry: %s", sketch.pk, exc, extra=log)
        release_for_retry(sketch, "storage is unavailable")
        raise
    except engine.EngineError as exc:
        fail(sketch.pk, str(exc))  # bad images fail at once: retrying cannot help
        return "failed"
    except MemoryError:
        fail(sketch.pk, "The image needs more memory than this server has; try a smaller photo.")
        return "failed"
    except (OperationalError, InterfaceError):
        # The database connection dropped (failover, terminated backend): reconnect, hand the row
        # back and let RQ retry in a few seconds instead of waiting for the reconciler.
        logger.warning("sketch %s: database connection lost, will retry", sketch.pk, extra=log)
        connection.close()
        try:
            release_for_retry(sketch, "the database connection was lost")
        except DatabaseError:
            pass  # still down: the reconciler will find the row once it is back
        raise
    except Exception:
        logger.exception("sketch %s failed unexpectedly", sketch.pk, extra=log)
        fail(sketch.pk, "The conversion failed because of an internal error.")
        return "failed"
    finally:
        close_old_connections()
    logger.info("sketch %s completed in %.2fs", sketch.pk, time.monotonic() - started, extra=log)
    return "completed"


def on_job_failure(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback. While RQ will retry, the sketch goes back to ``queued`` for that
    retry to claim; a final failure ends it ``failed`` with a reason a person can read.

    Besides the job's own exceptions (only storage errors escape ``run_sketch``) this sees
    ``AbandonedJobError`` when RQ finds the job of a dead worker in its started registry.
    """
    from rq.exceptions import AbandonedJobError

    sketch_id = (job.meta or {}).get("sketch_id") or (job.args[0] if job.args else None)
    if not sketch_id:
        return
    close_old_connections()
    abandoned = isinstance(exc_value, AbandonedJobError) or exc_type is AbandonedJobError
    if job.should_retry:
        if abandoned:  # its run died mid-way: hand the row back so that the retry can claim it
            sketch = Sketch.objects.filter(pk=sketch_id, status=Sketch.Status.PROCESSING).first()
            if sketch is not None:
                release_for_retry(sketch, "the worker stopped")
        return
    if isinstance(exc_value, StorageError):
        reason = "Storage stayed unavailable; please try again later."
    elif abandoned:
        reason = "The worker stopped while converting this sketch."
    else:
        reason = f"The job failed: {exc_value or getattr(exc_type, '__name__', 'unknown error')}"
    fail(sketch_id, reason)


def run_sketch_with_retries(sketch_id: str, intervals: list[int]) -> str:
    """The in-process worker's loop around the same job, with RQ's retry schedule."""
    for wait in [*intervals, None]:
        try:
            return run_sketch(sketch_id)
        except (StorageError, OperationalError, InterfaceError) as exc:
            if wait is None:
                what = "Storage" if isinstance(exc, StorageError) else "The database"
                fail(sketch_id, f"{what} stayed unavailable; please try again later.")
                return "failed"
            time.sleep(wait)
    return "failed"
