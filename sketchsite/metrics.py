"""``/metrics`` in Prometheus' text format, for an admin or a holder of ``METRICS_TOKEN``.

Two kinds of numbers, so that several processes need no shared memory:

* **this web process**: HTTP requests by method, route (the URL pattern, never the raw path:
  bounded cardinality) and status, and a request-duration histogram. Each web instance is
  scraped on its own, as usual for Prometheus.
* **the service as a whole**, read at scrape time: sketch jobs by status, outcomes (completed,
  failed, timed out, cancelled) and a duration histogram by style and method, computed with SQL
  from the ``Sketch`` rows (the database is the truth; the worker processes keep no counters);
  the queue depth and the workers from Redis. These are the same on every instance.
  Deleting sketches lowers the outcome counts, which Prometheus reads as a counter reset.
"""

import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

logger = logging.getLogger(__name__)

disable_created_metrics()  # no *_created series: they double the output and nobody graphs them
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)

HTTP_REQUESTS = Counter(
    "sketch_http_requests", "HTTP requests served by this process.", ["method", "route", "status"], registry=REGISTRY
)
HTTP_DURATION = Histogram(
    "sketch_http_request_duration_seconds",
    "Time to answer an HTTP request in this process.",
    ["method", "route"],
    buckets=REQUEST_BUCKETS,
    registry=REGISTRY,
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in KNOWN_METHODS else "other"
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


# ----------------------------------------------------------------------------- scrape-time numbers
def job_counts() -> list[dict]:
    from sketches.models import Sketch

    return list(
        Sketch.objects.order_by()
        .values("status", "style", "method")
        .annotate(
            count=Count("pk"),
            timed_out=Count("pk", filter=Q(status=Sketch.Status.FAILED, failure_code=Sketch.FailureCode.TIMEOUT)),
        )
    )


def job_durations() -> list[dict]:
    """Bucket counts of finished_at - started_at for completed sketches, by style and method."""
    from sketches.models import Sketch

    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    buckets = {f"le_{i}": Count("pk", filter=Q(duration__lte=timedelta(seconds=b))) for i, b in enumerate(JOB_BUCKETS)}
    return list(
        Sketch.objects.order_by()
        .filter(status=Sketch.Status.COMPLETED, started_at__isnull=False, finished_at__isnull=False)
        .annotate(duration=duration)
        .values("style", "method")
        .annotate(count=Count("pk"), total=Sum("duration"), **buckets)
    )


class ServiceCollector:
    """Reads the database and Redis when scraped; a failing source is reported, not raised."""

    def describe(self):
        return []  # nothing to read at registration (the database may not even exist yet)

    def collect(self):
        errors = GaugeMetricFamily(
            "sketch_metrics_source_up", "1 when the source could be read for this scrape.", labels=["source"]
        )
        try:
            yield from self._jobs()
            errors.add_metric(["database"], 1)
        except Exception:
            logger.warning("metrics: reading the database failed", exc_info=True)
            errors.add_metric(["database"], 0)
        if settings.REDIS_URL:
            try:
                yield from self._queue()
                errors.add_metric(["redis"], 1)
            except Exception:
                logger.warning("metrics: reading Redis failed", exc_info=True)
                errors.add_metric(["redis"], 0)
        yield errors

    @staticmethod
    def _jobs():
        from sketches.models import Sketch

        rows = job_counts()
        by_status = GaugeMetricFamily(
            "sketch_jobs", "Sketches in the database by status, style and method.", labels=["status", "style", "method"]
        )
        outcomes = CounterMetricFamily(
            "sketch_job_outcomes",
            "Finished sketch jobs by outcome (completed, failed, timed_out, cancelled), style and method.",
            labels=["outcome", "style", "method"],
        )
        for row in rows:
            by_status.add_metric([row["status"], row["style"], row["method"]], row["count"])
            if row["status"] == Sketch.Status.FAILED:
                failed = row["count"] - row["timed_out"]
                outcomes.add_metric(["failed", row["style"], row["method"]], failed)
                outcomes.add_metric(["timed_out", row["style"], row["method"]], row["timed_out"])
            elif row["status"] in Sketch.TERMINAL:
                outcomes.add_metric([row["status"], row["style"], row["method"]], row["count"])
        yield by_status
        yield outcomes

        durations = HistogramMetricFamily(
            "sketch_job_duration_seconds", "Time from claim to completion of completed sketch jobs.", labels=["style", "method"]
        )
        for row in job_durations():
            buckets = [(str(float(b)), row[f"le_{i}"]) for i, b in enumerate(JOB_BUCKETS)]
            buckets.append(("+Inf", row["count"]))
            total = row["total"].total_seconds() if row["total"] is not None else 0.0
            durations.add_metric([row["style"], row["method"]], buckets, total)
        yield durations

    @staticmethod
    def _queue():
        from .health import queue_overview

        overview = queue_overview()
        depth = GaugeMetricFamily("sketch_queue_jobs", "RQ jobs of the sketches queue by state.", labels=["state"])
        for state, count in overview["depth"].items():
            depth.add_metric([state], count)
        yield depth
        wait = GaugeMetricFamily("sketch_queue_oldest_wait_seconds", "How long the oldest queued job has waited (0 when none).")
        wait.add_metric([], overview["oldest_wait_s"] or 0.0)
        yield wait
        workers = GaugeMetricFamily("sketch_workers", "Registered RQ workers on the sketches queue by state.", labels=["state"])
        states = {"busy": 0, "idle": 0}
        for worker in overview["workers"]:
            states[worker["state"]] = states.get(worker["state"], 0) + 1
        for state, count in states.items():
            workers.add_metric([state], count)
        yield workers
        ages = [w["heartbeat_age_s"] for w in overview["workers"] if w["heartbeat_age_s"] is not None]
        heartbeat = GaugeMetricFamily(
            "sketch_worker_heartbeat_age_seconds", "Age of the stalest worker heartbeat (0 when no worker)."
        )
        heartbeat.add_metric([], max(ages) if ages else 0.0)
        yield heartbeat


REGISTRY.register(ServiceCollector())


# ----------------------------------------------------------------------------- the view
def _error(status: int, detail: str, code: str) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def authorise(request) -> JsonResponse | None:
    """None when allowed: ``Bearer <METRICS_TOKEN>``, or an admin's access token (header or cookie)."""
    from accounts.middleware import user_from_access_token

    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential:
        token = settings.METRICS_TOKEN
        if token and hmac.compare_digest(credential.encode(), token.encode()):
            return None
        user = user_from_access_token(credential)
        if user is None:
            return _error(401, "The token is not valid.", "token_not_valid")
        request.user = user  # for the request log line
    else:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return _error(401, "Authentication credentials were not provided.", "not_authenticated")
    if not getattr(user, "is_admin", False):
        return _error(403, "Only administrators may read the metrics.", "permission_denied")
    return None


@never_cache
def metrics_view(request):
    refusal = authorise(request)
    if refusal is not None:
        return refusal
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
