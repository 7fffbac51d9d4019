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

from . import engine, engine_process, lifecycle
from .models import Sketch
from .storage import ObjectMissing, StorageError, get_storage

logger = logging.getLogger(__name__)

Code = Sketch.FailureCode

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
        if not lifecycle.progress(self.sketch, percent, stage):
            raise Cancelled()
        self.last_percent, self.last_stage, self.last_saved = percent, stage, now


def timed_out_message() -> str:
    return f"The conversion timed out after {settings.TASK_TIMEOUT} s."


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
    done = lifecycle.complete(
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
    sketch = lifecycle.claim(sketch_id)
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
        lifecycle.fail(sketch.pk, Code.TIMEOUT, timed_out_message())
        return "timed out"
    except ObjectMissing:
        lifecycle.fail(sketch.pk, Code.MISSING_ORIGINAL, "The original photo is no longer in storage; upload it again.")
        return "failed"
    except SourceChanged:
        logger.warning("sketch %s: the stored original changed after confirm", sketch.pk, extra=log)
        lifecycle.fail(
            sketch.pk, Code.CHANGED_ORIGINAL, "The original photo was changed in storage after it was confirmed; upload it again."
        )
        return "failed"
    except engine_process.EngineCrashed as exc:
        logger.error("sketch %s: %s", sketch.pk, exc, extra=log)
        lifecycle.fail(
            sketch.pk,
            Code.ENGINE_CRASHED,
            "The conversion process stopped unexpectedly (the image may need more memory than this server has).",
        )
        return "failed"
    except StorageError as exc:
        logger.warning("sketch %s: storage error, will retry: %s", sketch.pk, exc, extra=log)
        lifecycle.requeue(sketch.pk, "storage is unavailable", enqueue=False)
        raise
    except engine.EngineError as exc:
        lifecycle.fail(sketch.pk, Code.BAD_IMAGE, str(exc))  # bad images fail at once: retrying cannot help
        return "failed"
    except MemoryError:
        lifecycle.fail(sketch.pk, Code.OUT_OF_MEMORY, "The image needs more memory than this server has; try a smaller photo.")
        return "failed"
    except (OperationalError, InterfaceError):
        # The database connection dropped (failover, terminated backend): reconnect, hand the row
        # back and let RQ retry in a few seconds instead of waiting for the reconciler.
        logger.warning("sketch %s: database connection lost, will retry", sketch.pk, extra=log)
        connection.close()
        try:
            lifecycle.requeue(sketch.pk, "the database connection was lost", enqueue=False)
        except DatabaseError:
            pass  # still down: the reconciler will find the row once it is back
        raise
    except Exception:
        logger.exception("sketch %s failed unexpectedly", sketch.pk, extra=log)
        lifecycle.fail(sketch.pk, Code.INTERNAL, "The conversion failed because of an internal error.")
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
            lifecycle.requeue(sketch_id, "the worker stopped", enqueue=False)
        return
    if isinstance(exc_value, StorageError):
        lifecycle.fail(sketch_id, Code.STORAGE, "Storage stayed unavailable; please try again later.")
    elif abandoned:
        lifecycle.fail(sketch_id, Code.LOST, "The worker stopped while converting this sketch.")
    else:
        reason = f"The job failed: {exc_value or getattr(exc_type, '__name__', 'unknown error')}"
        lifecycle.fail(sketch_id, Code.INTERNAL, reason)


def run_sketch_with_retries(sketch_id: str, intervals: list[int]) -> str:
    """The in-process worker's loop around the same job, with RQ's retry schedule."""
    for wait in [*intervals, None]:
        try:
            return run_sketch(sketch_id)
        except (StorageError, OperationalError, InterfaceError) as exc:
            if wait is None:
                storage = isinstance(exc, StorageError)
                what = "Storage" if storage else "The database"
                code = Code.STORAGE if storage else Code.DATABASE
                lifecycle.fail(sketch_id, code, f"{what} stayed unavailable; please try again later.")
                return "failed"
            time.sleep(wait)
    return "failed"
