"""``/health``: each dependency's check with its latency, plus system metrics. 200 or 503."""

import time

import psutil
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

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


def check_redis():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
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


@never_cache
def health(request):
    checks = {name: _timed(check) for name, check in dependency_checks().items()}
    failed = [name for name, result in checks.items() if not result["ok"]]
    body = {
        "status": "ok" if not failed else "unhealthy",
        "failed": failed,
        "app": settings.APP_NAME,
        "version": settings.APP_VERSION,
        "uptime_s": round(time.time() - STARTED, 1),
        "checks": checks,
        "system": system_metrics(),
    }
    return JsonResponse(body, status=503 if failed else 200)
