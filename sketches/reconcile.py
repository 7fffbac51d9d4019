"""The reconciler: no sketch stays queued or processing forever.

Redis may lose jobs (restart without persistence), workers may die (kill -9, OOM), and a job
may hang. The database is the truth, so this walks the unfinished rows and, for each whose job
is gone or silent, re-enqueues it (a few times) or fails it with a reason.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from . import jobs, lifecycle, queue
from .models import Sketch

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A freshly created row may not be enqueued yet (on_commit); leave it alone for a moment.
ENQUEUE_GRACE = timedelta(seconds=10)


@dataclass
class Report:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def __str__(self):
        return f"requeued {len(self.requeued)}, failed {len(self.failed)}"


def _requeue(sketch: Sketch, report: Report, reason: str) -> None:
    if sketch.attempts >= MAX_ATTEMPTS:
        if lifecycle.fail(sketch.pk, Sketch.FailureCode.LOST, f"{reason} (gave up after {sketch.attempts} attempts)."):
            report.failed.append(str(sketch.pk))
        return
    # Only if the row is as we read it: a change since means it is alive after all.
    note = reason[:1].lower() + reason[1:]
    if lifecycle.requeue(sketch.pk, note, from_statuses=(sketch.status,), updated_at=sketch.updated_at, enqueue=True):
        report.requeued.append(str(sketch.pk))
        logger.warning("re-enqueued sketch %s: %s", sketch.pk, reason)


def reconcile(now=None) -> Report:
    now = now or timezone.now()
    report = Report()
    stale_after = timedelta(seconds=settings.SKETCH_STALE_AFTER)
    timeout = timedelta(seconds=settings.TASK_TIMEOUT + 30)
    for sketch in Sketch.objects.filter(status__in=Sketch.ACTIVE).order_by("created_at").iterator():
        alive = queue.job_is_alive(sketch.task_id)
        if sketch.status == Sketch.Status.PROCESSING:
            if sketch.started_at and now - sketch.started_at > timeout:
                if lifecycle.fail(sketch.pk, Sketch.FailureCode.TIMEOUT, jobs.timed_out_message()):
                    report.failed.append(str(sketch.pk))
            elif now - sketch.updated_at > stale_after and alive is False:
                # A running job saves a heartbeat every few seconds; silence, with a queue that no
                # longer runs it, means its worker died. A job still running is never run twice.
                _requeue(sketch, report, "The worker stopped while converting this sketch")
        elif alive is False and now - sketch.updated_at > ENQUEUE_GRACE:
            _requeue(sketch, report, "The job was lost from the queue")
    return report
