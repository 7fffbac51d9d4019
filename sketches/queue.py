"""Putting sketch jobs on a queue: RQ on Redis, or threads in this process (embedded default).

Both run the same job function, ``sketches.jobs.run_sketch(sketch_id)``, under the sketch's
``task_id``. Callers enqueue only after their transaction commits.
"""

import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

logger = logging.getLogger(__name__)

# Transient storage and database-connection errors are retried by RQ (the scheduler must run:
# rqworker --with-scheduler) and by the in-process worker, after these waits: about 4 minutes of
# outage in all. No wait exceeds 60 s, so once the service is back every sketch is final within
# TASK_TIMEOUT + 60 s (a 120 s step would overshoot that by up to a minute).
RETRY_INTERVALS = [5, 15, 30, 60, 60, 60]
# The job stops itself at TASK_TIMEOUT (jobs.Progress) and saves "timed out"; RQ's own timeout,
# a signal that may land anywhere (inside a database call, say), is only the backstop for a job
# stuck in one long C call, so it fires a little later.
HARD_TIMEOUT_GRACE = 15
# A busy RQ worker renews its job's heartbeat this often (sketches.worker); a started job whose
# heartbeat is older than JOB_SILENCE_LIMIT has lost its worker (kill -9, a lost machine).
JOB_HEARTBEAT_INTERVAL = 5
JOB_SILENCE_LIMIT = 20


# ----------------------------------------------------------------------------- RQ
def rq_queue():
    import django_rq

    url = settings.RQ_QUEUES[settings.SKETCH_QUEUE_NAME]["URL"]
    return django_rq.get_queue(settings.SKETCH_QUEUE_NAME, connection=shared_redis(url))


@functools.lru_cache(maxsize=8)
def shared_redis(url: str):
    """One Redis client, and so one connection pool, per process and URL.

    django_rq's get_queue() builds a new client on every call: each create opened a fresh TCP
    connection and paid for redis-py's handshake (make load: create p50 39 ms at the server).
    redis-py's pool is thread-safe and starts afresh in a forked child.
    """
    import redis

    return redis.Redis.from_url(url)


def _rq_enqueue(sketch) -> None:
    from rq import Callback, Retry

    from .jobs import on_job_failure, run_sketch

    rq_queue().enqueue(
        run_sketch,
        str(sketch.pk),
        job_id=sketch.task_id,
        job_timeout=settings.TASK_TIMEOUT + HARD_TIMEOUT_GRACE,
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        result_ttl=3600,
        failure_ttl=24 * 3600,
        on_failure=Callback(on_job_failure),
        description=f"sketch {sketch.pk} {sketch.style}/{sketch.method}",
        meta={"sketch_id": str(sketch.pk), "request_id": sketch.request_id},
    )


def _rq_cancel(task_id: str) -> None:
    from rq.exceptions import InvalidJobOperation, NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(task_id, connection=rq_queue().connection)
        # A started job stops by itself at its next progress save (it sees the status change).
        if job.get_status() in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
            job.cancel()
    except (NoSuchJobError, InvalidJobOperation):
        pass


def rq_job_state(task_id: str) -> str | None:
    """The RQ status of a job ("dead" for a started job whose worker went silent), or None when
    Redis no longer knows it."""
    from datetime import UTC, datetime

    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(task_id, connection=rq_queue().connection)
    except NoSuchJobError:
        return None
    state = str(job.get_status(refresh=False).value)
    silent = job.last_heartbeat is not None and (datetime.now(UTC) - job.last_heartbeat).total_seconds() > JOB_SILENCE_LIMIT
    return "dead" if state == "started" and silent else state


# ----------------------------------------------------------------------------- in-process
class InProcessWorker:
    """A small thread pool standing in for RQ when there is no Redis."""

    def __init__(self, threads: int):
        from . import engine_process

        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sketch-worker")
        self.lock = threading.Lock()
        self.pending: set[str] = set()
        # The threads only supervise: each job's engine work runs in a killable child process.
        # Start one now so that the first job does not wait for its imports.
        engine_process.pool().warm(1)

    def submit(self, task_id: str, sketch_id: str) -> None:
        with self.lock:
            if task_id in self.pending:
                return
            self.pending.add(task_id)
        self.executor.submit(self._run, task_id, sketch_id)

    def _run(self, task_id: str, sketch_id: str) -> None:
        from django.db import close_old_connections

        from .jobs import run_sketch_with_retries

        try:
            run_sketch_with_retries(sketch_id, RETRY_INTERVALS)
        except Exception:
            logger.exception("in-process job %s crashed", task_id)
        finally:
            close_old_connections()
            with self.lock:
                self.pending.discard(task_id)

    def knows(self, task_id: str) -> bool:
        with self.lock:
            return task_id in self.pending


_worker: InProcessWorker | None = None
_worker_lock = threading.Lock()


def inprocess_worker() -> InProcessWorker:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = InProcessWorker(settings.INPROCESS_WORKER_THREADS)
        return _worker


# ----------------------------------------------------------------------------- facade
def enqueue(sketch) -> None:
    if settings.USE_INPROCESS_WORKER:
        inprocess_worker().submit(sketch.task_id, str(sketch.pk))
    else:
        _rq_enqueue(sketch)


def cancel(task_id: str) -> None:
    if settings.USE_INPROCESS_WORKER:
        return  # the running thread notices the status change at its next progress save
    try:
        _rq_cancel(task_id)
    except Exception:  # Redis down: the job will find its sketch cancelled when it runs
        logger.warning("could not cancel job %s", task_id, exc_info=True)


def forget(task_id: str) -> None:
    """Drop a stopped or lost run's job, so that a fresh one can take its id."""
    if settings.USE_INPROCESS_WORKER:
        return  # a thread that ended keeps nothing
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        Job.fetch(task_id, connection=rq_queue().connection).delete()
    except NoSuchJobError:
        pass


def job_is_alive(task_id: str) -> bool | None:
    """True if the job is waiting or running, False if it is gone or dead, None if unknown.

    Running means its worker still answers for it: the in-process worker holds it, or the RQ
    worker renewed its heartbeat within ``JOB_SILENCE_LIMIT``.
    """
    if settings.USE_INPROCESS_WORKER:
        return inprocess_worker().knows(task_id)
    try:
        state = rq_job_state(task_id)
    except Exception:
        return None  # Redis unreachable: decide nothing
    return state in ("queued", "started", "scheduled", "deferred")
