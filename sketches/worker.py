"""The RQ worker class of ``manage.py sketchworker`` (and ``settings.RQ["WORKER_CLASS"]``).

RQ's forking worker, plus:

* **Housekeeping at every wait on the queue.** RQ's maintenance (abandoned-job detection,
  restarting a scheduler process that died, e.g. when Redis went away, taking over the scheduler
  lock of a dead worker) runs every 10 minutes by default: retries scheduled after a storage
  error would wait that long for a new scheduler. An idle worker looks between two waits on the
  queue (``worker_ttl - 15`` = 45 s for sketchworker) and runs it once ``MAINTENANCE_INTERVAL``
  has passed; 30 s is less than one wait, so it runs at every one. A dead worker's scheduler
  lock (TTL 61 s) is thus taken over at most about 61 + 45 = 106 s after the kill (with 60 s it
  ran every other wait: up to ~150 s). A busy worker looks between jobs.
* **A shutdown that fits a platform's grace period.** On SIGTERM RQ stops taking jobs and lets
  the running one finish (warm shutdown), and its scheduler stops with it. A platform kills the
  container a fixed time after SIGTERM (Cloud Run: 10 s, Kubernetes: 30 s by default), so a
  sketch that would not finish in time is handed back instead of being cut off:
  ``WORKER_SHUTDOWN_GRACE`` seconds after SIGTERM, a job still running is stopped (its work
  horse is killed), its sketch goes back to ``queued`` and its job back on the queue, where
  another worker, or this one's successor, takes it from the start. If the process is killed
  before even that, the reconciler of any other worker re-enqueues the sketch once its progress
  heartbeat has gone quiet (``SKETCH_STALE_AFTER``).
* **A job heartbeat every few seconds** (``JOB_HEARTBEAT_INTERVAL``, RQ's default is 30 s),
  renewed by this parent process while the work horse converts: the reconciler tells a job that
  is still running (never re-queued) from one whose worker died (re-queued within
  ``JOB_SILENCE_LIMIT``).
* **Log context.** In the work horse every log line of a run, RQ's own included, carries the
  job id and the id of the request that created the sketch.
* **An optional HTTP listener** (``WORKER_HEALTH_PORT``) for platforms that want one: a Cloud Run
  service must listen on ``$PORT``; Kubernetes probes.
"""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.db import connection
from rq.worker import Worker

logger = logging.getLogger(__name__)

MAINTENANCE_INTERVAL = 30  # seconds; below the 45 s queue wait (see above)


def hand_back(job) -> bool:
    """processing → queued for the job's sketch, and a fresh job on the queue. True if moved."""
    from . import lifecycle

    sketch_id = (job.meta or {}).get("sketch_id") or (job.args[0] if job.args else None)
    if not sketch_id:
        return False
    # False when it finished (or was cancelled) in the meantime.
    return lifecycle.requeue(sketch_id, "the worker shut down", enqueue=True)


def serve_health(worker: "SketchWorker", port: int) -> ThreadingHTTPServer:
    """200 while the worker runs, 503 once it is shutting down."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            stopping = worker.stopping
            body = json.dumps({"status": "stopping" if stopping else "ok", "worker": worker.name}).encode()
            self.send_response(503 if stopping else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # probes every few seconds: not worth a log line
            pass

    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-health", daemon=True).start()
    return server


class SketchWorker(Worker):
    def __init__(self, *args, **kwargs):
        from .queue import JOB_HEARTBEAT_INTERVAL

        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL)
        kwargs.setdefault("job_monitoring_interval", JOB_HEARTBEAT_INTERVAL)
        super().__init__(*args, **kwargs)
        self.stopping = False  # a warm shutdown was asked for (SIGTERM, SIGINT, rq's shutdown command)
        self._hand_back_timer: threading.Timer | None = None
        self._handing_back: str | None = None
        self._health_server: ThreadingHTTPServer | None = None

    def bootstrap(self, *args, **kwargs):
        super().bootstrap(*args, **kwargs)
        # Listen only now: the worker is registered; work() installs its signal handlers next.
        port = settings.WORKER_HEALTH_PORT
        if port and self._health_server is None:
            self._health_server = serve_health(self, port)
            logger.info("worker health listener on port %s", port)

    def work(self, *args, **kwargs):
        try:
            return super().work(*args, **kwargs)
        finally:
            if self._health_server is not None:
                self._health_server.shutdown()
                self._health_server.server_close()

    def perform_job(self, job, queue, execution) -> bool:
        from sketchsite.logging import job_id_var, request_id_var

        request_token = request_id_var.set((job.meta or {}).get("request_id") or None)
        job_token = job_id_var.set(job.id)
        try:
            return super().perform_job(job, queue, execution)
        finally:
            job_id_var.reset(job_token)
            request_id_var.reset(request_token)

    # -- shutdown
    def request_stop(self, signum, frame):
        self.stopping = True
        grace = settings.WORKER_SHUTDOWN_GRACE
        if grace > 0 and self.horse_pid and self._hand_back_timer is None:
            self.log.info("Worker %s: shutting down; a job still running in %s s goes back to the queue", self.name, grace)
            self._hand_back_timer = threading.Timer(grace, self._stop_running_job)
            self._hand_back_timer.daemon = True
            self._hand_back_timer.start()
        super().request_stop(signum, frame)

    def _stop_running_job(self) -> None:
        execution = self.execution
        if not self.horse_pid or execution is None:
            return
        self.log.warning(
            "Worker %s: job %s did not finish within the shutdown grace; handing it back", self.name, execution.job_id
        )
        self._handing_back = execution.job_id
        self.request_stop_execution(execution.id)  # RQ marks it stopped: no retry, no failure callback

    def handle_job_failure(self, job, queue, *args, **kwargs):
        super().handle_job_failure(job, queue, *args, **kwargs)
        if self._handing_back != job.id:
            return  # a failure of its own, or stopped by an operator (rq's stop-job command): RQ's handling is final
        self._handing_back = None
        try:
            if hand_back(job):
                logger.info("sketch job %s handed back to the queue for another worker", job.id, extra={"job_id": job.id})
        except Exception:  # the reconciler will find the sketch once its heartbeat goes quiet
            logger.exception("could not hand job %s back; the reconciler will re-enqueue it", job.id)
        finally:
            connection.close()  # no database connection may outlive into a fork

    def teardown(self):
        if self._hand_back_timer is not None:
            self._hand_back_timer.cancel()
        super().teardown()
