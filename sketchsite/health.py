"""Health endpoints.

* ``/health``: each dependency's check, 503 when one fails, or when no worker has been seen while
  jobs have waited longer than ``HEALTH_QUEUE_STALL_AFTER`` seconds. Anyone gets the status and
  each check's ok; admins, ``Bearer <METRICS_TOKEN>`` (and DEBUG) also get latencies, errors, the
  RQ workers and queue depth, system metrics and the version: they help an attacker too.
* ``/health/live``: the process answers (no dependency is touched): the liveness probe.
* ``/health/ready``: database, Redis and storage answer: the readiness/startup probe (terse).

The two probes are answered by ``ProbeMiddleware`` before host validation and the HTTPS
redirect, because a platform's probe comes over plain HTTP with the instance's own address as
``Host``.
"""

import time
from datetime import UTC, datetime

import psutil
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

STARTED = time.time()


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check() or {}
        result = {"ok": True, **detail}
    except Exception as exc:  # any failure is reported, never raised: that is the point
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"engine": connection.vendor}


def redis_client():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2)


def check_redis():
    client = redis_client()
    try:
        client.ping()
    finally:
        client.close()


def check_storage():
    from sketches.storage import get_storage

    return get_storage().check()


def dependency_checks() -> dict:
    checks = {"database": check_database, "storage": check_storage}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
    return checks


# ----------------------------------------------------------------------------- queue and workers
def queue_overview(client=None) -> dict:
    """Queue depth by state, the age of the oldest waiting job, and the workers with heartbeats.

    Read-only: registry counts are taken without RQ's cleanup (which moves jobs around).
    """
    from rq import Queue, Worker

    own = client is None
    client = client or redis_client()
    try:
        queue = Queue(settings.SKETCH_QUEUE_NAME, connection=client)
        depth = {
            "queued": queue.count,
            "started": queue.started_job_registry.get_job_count(cleanup=False),
            "scheduled": queue.scheduled_job_registry.get_job_count(cleanup=False),
            "deferred": queue.deferred_job_registry.get_job_count(cleanup=False),
            "failed": queue.failed_job_registry.get_job_count(cleanup=False),
        }
        oldest_wait = None
        first = queue.get_job_ids(0, 1)
        if first:
            job = queue.fetch_job(first[0])
            if job is not None and job.enqueued_at is not None:
                oldest_wait = max(0.0, (datetime.now(UTC) - _aware(job.enqueued_at)).total_seconds())
        now = datetime.now(UTC)
        workers = []
        for worker in Worker.all(queue=queue):
            heartbeat = _aware(worker.last_heartbeat) if worker.last_heartbeat else None
            workers.append(
                {
                    "name": worker.name,
                    "state": str(worker.get_state()),
                    "current_job": worker.get_current_job_id(),
                    "last_heartbeat": heartbeat.isoformat() if heartbeat else None,
                    "heartbeat_age_s": round((now - heartbeat).total_seconds(), 1) if heartbeat else None,
                }
            )
        return {"depth": depth, "oldest_wait_s": round(oldest_wait, 1) if oldest_wait is not None else None, "workers": workers}
    finally:
        if own:
            client.close()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def worker_check(overview: dict) -> dict:
    """Fails when no worker is registered while a job has waited past the stall threshold."""
    workers = overview["workers"]
    waiting = overview["oldest_wait_s"]
    stalled = not workers and waiting is not None and waiting > settings.HEALTH_QUEUE_STALL_AFTER
    result = {"ok": not stalled, "count": len(workers), "busy": sum(1 for w in workers if w["state"] == "busy")}
    if stalled:
        result["error"] = f"no worker is running and a job has waited {waiting:.0f} s"
    return result


# ----------------------------------------------------------------------------- system
def system_metrics() -> dict:
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(settings.VAR_DIR if settings.VAR_DIR.exists() else "/"))
    process = psutil.Process()
    return {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "cpu_count": psutil.cpu_count(),
        "load_average": [round(x, 2) for x in psutil.getloadavg()],
        "memory": {"total_mb": memory.total // 2**20, "available_mb": memory.available // 2**20, "percent": memory.percent},
        "disk": {"total_gb": round(disk.total / 2**30, 1), "free_gb": round(disk.free / 2**30, 1), "percent": disk.percent},
        "process": {"rss_mb": process.memory_info().rss // 2**20, "threads": process.num_threads()},
    }


# ----------------------------------------------------------------------------- views
@never_cache
@require_safe
def health(request):
    checks = {name: _timed(check) for name, check in dependency_checks().items()}
    body = {"status": "ok"}
    if settings.REDIS_URL and checks["redis"]["ok"]:
        started = time.perf_counter()
        try:
            overview = queue_overview()
            checks["workers"] = worker_check(overview)
            checks["workers"]["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
            body["queue"] = {"depth": overview["depth"], "oldest_wait_s": overview["oldest_wait_s"]}
            body["workers"] = overview["workers"]
        except Exception as exc:
            checks["workers"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    failed = [name for name, result in checks.items() if not result["ok"]]
    if not _may_see_details(request):
        return JsonResponse(_terse(failed, checks), status=503 if failed else 200)
    body.update(
        {
            "status": "ok" if not failed else "unhealthy",
            "failed": failed,
            "app": settings.APP_NAME,
            "version": settings.APP_VERSION,
            "uptime_s": round(time.time() - STARTED, 1),
            "checks": checks,
            "system": system_metrics(),
        }
    )
    return JsonResponse(body, status=503 if failed else 200)


def _may_see_details(request) -> bool:
    from .metrics import authorise

    return settings.DEBUG or authorise(request) is None


def _terse(failed: list[str], checks: dict) -> dict:
    return {
        "status": "ok" if not failed else "unhealthy",
        "failed": failed,
        "checks": {name: {"ok": result["ok"]} for name, result in checks.items()},
    }


@never_cache
@require_safe
def live(request):
    return JsonResponse({"status": "ok", "uptime_s": round(time.time() - STARTED, 1)})


@never_cache
@require_safe
def ready(request):
    checks = {name: _timed(check) for name, check in dependency_checks().items()}
    failed = [name for name, result in checks.items() if not result["ok"]]
    body = {**_terse(failed, checks), "status": "ok" if not failed else "unavailable"}
    return JsonResponse(body, status=503 if failed else 200)


PROBES = {"/health/live": live, "/health/ready": ready}


class ProbeMiddleware:
    """Answers the platform's probes first: no host check, no HTTPS redirect, no request log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info.rstrip("/") or "/")
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
