"""Every move of a sketch between states, in one place.

::

    queued ──claim──▶ processing ──complete──▶ completed
      ▲                  │  ╲
      └────requeue───────┘   ╲──fail──▶ failed  ◀── fail (from queued too)
    cancel: queued/processing ──▶ cancelled;   retry: failed/cancelled ──▶ queued (new task id)

Each transition is one conditional UPDATE that moves the row only from the states it allows, so
racing actors (the job, a retry of it, the reconciler, a user, an admin) cannot both win, and
terminal states never move backwards. The owner's socket is told once the transaction commits
(outside a transaction: at once), never about a change that was rolled back.
"""

import logging
import uuid

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import events, queue
from .models import Sketch

logger = logging.getLogger(__name__)

Code = Sketch.FailureCode


def _publish_on_commit(sketch: Sketch) -> None:
    transaction.on_commit(lambda: events.publish(sketch))


def _move(sketch_id, from_statuses, *, updated_at=None, **changes) -> bool:
    """The conditional UPDATE; ``updated_at`` also requires the row to be unchanged since then."""
    rows = Sketch.objects.filter(pk=sketch_id, status__in=from_statuses)
    if updated_at is not None:
        rows = rows.filter(updated_at=updated_at)
    return bool(rows.update(**changes, updated_at=timezone.now()))


def _announce_and_enqueue(sketch: Sketch) -> None:
    # News first: once enqueued, a fast worker's "processing" could otherwise overtake "queued".
    events.publish(sketch)
    try:
        queue.enqueue(sketch)
    except Exception as exc:  # Redis down: the reconciler re-enqueues it once the queue is back
        logger.warning("could not enqueue sketch %s: %s", sketch.pk, exc)


def submit(sketch: Sketch) -> None:
    """A new ``queued`` row: announce and enqueue it once it is committed (a job must find it)."""
    transaction.on_commit(lambda: _announce_and_enqueue(sketch))


def claim(sketch_id) -> Sketch | None:
    """queued → processing, once. None when someone else has it or it has ended."""
    now = timezone.now()
    claimed = _move(
        sketch_id,
        (Sketch.Status.QUEUED,),
        status=Sketch.Status.PROCESSING,
        stage="download",
        progress=0,
        error="",
        failure_code="",
        started_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    sketch = Sketch.objects.select_related("upload").get(pk=sketch_id)
    _publish_on_commit(sketch)
    return sketch


def progress(sketch: Sketch, percent: int, stage: str) -> bool:
    """Save a running job's progress (its heartbeat too). False once the row left ``processing``."""
    if not _move(sketch.pk, (Sketch.Status.PROCESSING,), progress=percent, stage=stage):
        return False
    sketch.progress, sketch.stage = percent, stage
    _publish_on_commit(sketch)
    return True


def complete(
    sketch: Sketch, *, result_key: str, size: int, width: int, height: int, thumbnail_key: str = "", thumbnail_size: int = 0
) -> bool:
    """processing → completed with its result. False if it was cancelled or deleted meanwhile."""
    done = _move(
        sketch.pk,
        (Sketch.Status.PROCESSING,),
        status=Sketch.Status.COMPLETED,
        progress=100,
        stage="",
        result_key=result_key,
        result_size=size,
        result_width=width,
        result_height=height,
        thumbnail_key=thumbnail_key,
        thumbnail_size=thumbnail_size or None,
        finished_at=timezone.now(),
    )
    if done:
        sketch.refresh_from_db()
        _publish_on_commit(sketch)
    return done


def fail(sketch_id, code: Code, reason: str) -> bool:
    """queued/processing → failed, with a code for programs and a reason for people.
    A job still waiting on the queue is cancelled; a running one notices at its next save."""
    failed = _move(
        sketch_id,
        Sketch.ACTIVE,
        status=Sketch.Status.FAILED,
        failure_code=code,
        error=reason[:500],
        stage="",
        finished_at=timezone.now(),
    )
    if failed:
        sketch = Sketch.objects.select_related("upload").get(pk=sketch_id)
        queue.cancel(sketch.task_id)
        _publish_on_commit(sketch)
    return failed


def cancel(sketch: Sketch, reason: str = "Cancelled.") -> bool:
    """queued/processing → cancelled. A running job notices at its next progress save."""
    changed = _move(sketch.pk, Sketch.ACTIVE, status=Sketch.Status.CANCELLED, error=reason[:500], finished_at=timezone.now())
    if changed:
        queue.cancel(sketch.task_id)
        sketch.refresh_from_db()
        _publish_on_commit(sketch)
    return changed


def requeue(sketch_id, reason: str, *, from_statuses=(Sketch.Status.PROCESSING,), updated_at=None, enqueue: bool) -> bool:
    """Back to ``queued`` to run from the start, saying why in ``error`` until it is claimed.

    ``enqueue``: replace its job on the queue with a fresh one (the worker is gone or handing
    it back); without it the job's own retry (RQ's, or the in-process loop's) claims it.
    """
    moved = _move(
        sketch_id,
        from_statuses,
        updated_at=updated_at,
        status=Sketch.Status.QUEUED,
        stage="",
        progress=0,
        error=f"Retrying: {reason}"[:500],
    )
    if not moved:
        return False
    sketch = Sketch.objects.select_related("upload").get(pk=sketch_id)
    _publish_on_commit(sketch)
    if enqueue:
        queue.forget(sketch.task_id)  # the stopped or lost run; the new job reuses the task id
        transaction.on_commit(lambda: queue.enqueue(sketch))
    return True


def retry(sketch: Sketch) -> bool:
    """failed/cancelled → queued, under a new task id (the old job may still be in RQ's registries)."""
    with transaction.atomic():
        changed = _move(
            sketch.pk,
            (Sketch.Status.FAILED, Sketch.Status.CANCELLED),
            status=Sketch.Status.QUEUED,
            progress=0,
            stage="",
            error="",
            failure_code="",
            task_id=uuid.uuid4().hex,
            started_at=None,
            finished_at=None,
        )
        if changed:
            sketch.refresh_from_db()
            submit(sketch)
    return changed
