"""Probes, /health with workers and queue depth, and /metrics (content and protection)."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

METRICS_TOKEN = "metrics-token-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def redis_conn():
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def sketch_queue(redis_conn):
    from django.conf import settings
    from rq import Queue

    return Queue(settings.SKETCH_QUEUE_NAME, connection=redis_conn)


def waiting_job(queue, waited: float):
    job = queue.enqueue("sketches.jobs.run_sketch", str(uuid.uuid4()))
    job.enqueued_at = datetime.now(UTC) - timedelta(seconds=waited)
    job.save()
    return job


def registered_worker(queue):
    from rq import Worker

    worker = Worker([queue], connection=queue.connection, name=f"test-worker-{uuid.uuid4().hex[:6]}")
    worker.register_birth()
    worker.set_state("idle")
    worker.heartbeat()
    return worker


# ----------------------------------------------------------------------------- probes
@pytest.mark.django_db
def test_live_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_checks_database_redis_and_storage(client, redis_conn):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "redis", "storage"}


@pytest.mark.django_db
def test_ready_fails_when_redis_is_gone(client):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["redis"]


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_probes_answer_any_host_over_plain_http(client):
    """A platform probes the instance by its own address over HTTP: no 400 for the Host, no 301."""
    assert client.get("/health/live", HTTP_HOST="10.1.2.3:8080").status_code == 200
    assert client.get("/health/ready", HTTP_HOST="10.1.2.3:8080").status_code == 200
    assert client.get("/health").status_code == 200, "/health is exempt from the HTTPS redirect"
    assert client.get("/login/").status_code == 301, "everything else goes to HTTPS"
    assert client.get("/api/auth/me", HTTP_HOST="evil.example").status_code == 400


# ----------------------------------------------------------------------------- /health
@pytest.mark.django_db
@override_settings(METRICS_TOKEN=METRICS_TOKEN)
def test_health_reports_workers_and_queue_depth(client, sketch_queue):
    worker = registered_worker(sketch_queue)
    waiting_job(sketch_queue, 5)
    body = client.get("/health", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").json()
    assert body["status"] == "ok", body
    assert body["queue"]["depth"] == {"queued": 1, "started": 0, "scheduled": 0, "deferred": 0, "failed": 0}
    assert body["queue"]["oldest_wait_s"] >= 4
    (seen,) = body["workers"]
    assert seen["name"] == worker.name and seen["heartbeat_age_s"] < 5 and seen["last_heartbeat"]
    assert body["checks"]["workers"] == {**body["checks"]["workers"], "ok": True, "count": 1, "busy": 0}


@pytest.mark.django_db
def test_health_is_503_when_jobs_wait_and_no_worker_is_seen(client, sketch_queue):
    waiting_job(sketch_queue, 5)
    assert client.get("/health").status_code == 200, "a job may wait a little while workers restart"
    sketch_queue.empty()
    waiting_job(sketch_queue, 600)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {**response.json(), "status": "unhealthy", "failed": ["workers"]}
    assert response.json()["checks"]["workers"] == {"ok": False}  # the reason is for operators
    with override_settings(METRICS_TOKEN=METRICS_TOKEN):
        detailed = client.get("/health", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert "no worker" in detailed.json()["checks"]["workers"]["error"]
    registered_worker(sketch_queue)
    assert client.get("/health").status_code == 200


# ----------------------------------------------------------------------------- /metrics
@pytest.mark.django_db
def test_metrics_refuses_anonymous_users_and_wrong_tokens(client, bearer, user):
    response = client.get("/metrics")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert bearer(user).get("/metrics").status_code == 403
    with override_settings(METRICS_TOKEN=METRICS_TOKEN):
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").status_code == 401, "no token configured"


@pytest.mark.django_db
def test_metrics_for_admin_bearer_cookie_and_token(client, bearer, admin_user):
    from accounts.tokens import issue_pair

    assert bearer(admin_user).get("/metrics").status_code == 200
    client.cookies["access_token"] = issue_pair(admin_user).access
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    client.cookies.clear()
    with override_settings(METRICS_TOKEN=METRICS_TOKEN):
        assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").status_code == 200


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus text format → {(name, labels): value}."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        pairs = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels or ""))
        samples[(name, pairs)] = float(value)
    return samples


def sample(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture
def finished_sketches(make_user):
    """Sketches in each state, with known durations."""
    from sketches.models import Sketch, Upload

    owner = make_user()
    upload = Upload.objects.create(
        owner=owner, key=f"uploads/{owner.pk}/{uuid.uuid4()}.png", content_type="image/png", status="confirmed"
    )
    now = timezone.now()

    def make(status, style="ink", method="basic", seconds=None, error="", code=""):
        started = now - timedelta(seconds=seconds) if seconds is not None else None
        return Sketch.objects.create(
            owner=owner,
            upload=upload,
            style=style,
            method=method,
            status=status,
            task_id=uuid.uuid4().hex,
            started_at=started,
            finished_at=now if seconds is not None else None,
            error=error,
            failure_code=code,
        )

    make("completed", seconds=0.3)
    make("completed", seconds=3)
    make("completed", seconds=45)
    make("completed", style="oil", method="artistic", seconds=7)
    make("failed", seconds=1, error="The image is not a picture.", code="bad_image")
    make("failed", seconds=300, error="The conversion timed out after 300 s.", code="timeout")
    # counted by its code, not its words
    make("failed", style="oil", method="basic", seconds=1, error="The conversion timed out of patience.", code="internal")
    make("cancelled")
    make("queued")
    make("processing", style="oil", method="advanced")


@pytest.mark.django_db
def test_metrics_content(bearer, admin_user, finished_sketches, sketch_queue):
    registered_worker(sketch_queue)
    waiting_job(sketch_queue, 30)
    client = bearer(admin_user)
    before = parse(client.get("/metrics").content.decode())
    client.get("/api/sketch/styles/available")
    client.get(f"/api/sketch/{uuid.uuid4()}")
    client.get(f"/api/sketch/{uuid.uuid4()}")
    samples = parse(client.get("/metrics").content.decode())

    # Requests of this process, labelled by route pattern (two different ids: one series). The
    # counters are per process, so earlier tests' requests are there too: compare the increase.
    grown = [
        k for k in samples if k[0] == "sketch_http_requests_total" and ("status", "404") in k[1] and samples[k] > before.get(k, 0)
    ]
    assert len(grown) == 1 and samples[grown[0]] - before.get(grown[0], 0) == 2
    route = dict(grown[0][1])["route"]
    assert route.startswith("/api/sketch/") and "sketch_id" in route, route
    assert any(k[0] == "sketch_http_request_duration_seconds_bucket" for k in samples)

    # Jobs from the database.
    assert sample(samples, "sketch_jobs", status="completed", style="ink", method="basic") == 3
    assert sample(samples, "sketch_jobs", status="processing", style="oil", method="advanced") == 1
    assert sample(samples, "sketch_job_outcomes_total", outcome="completed", style="ink", method="basic") == 3
    assert sample(samples, "sketch_job_outcomes_total", outcome="failed", style="ink", method="basic") == 1
    assert sample(samples, "sketch_job_outcomes_total", outcome="timed_out", style="ink", method="basic") == 1
    assert sample(samples, "sketch_job_outcomes_total", outcome="timed_out", style="oil", method="basic") == 0
    assert sample(samples, "sketch_job_outcomes_total", outcome="failed", style="oil", method="basic") == 1
    assert sample(samples, "sketch_job_outcomes_total", outcome="cancelled", style="ink", method="basic") == 1
    hist = {
        le: sample(samples, "sketch_job_duration_seconds_bucket", style="ink", method="basic", le=le)
        for le in ("0.5", "5.0", "60.0", "+Inf")
    }
    assert hist == {"0.5": 1, "5.0": 2, "60.0": 3, "+Inf": 3}
    assert sample(samples, "sketch_job_duration_seconds_count", style="ink", method="basic") == 3
    assert sample(samples, "sketch_job_duration_seconds_sum", style="ink", method="basic") == pytest.approx(48.3, abs=0.01)
    assert sample(samples, "sketch_job_duration_seconds_count", style="oil", method="artistic") == 1

    # Queue and workers from Redis.
    assert sample(samples, "sketch_queue_jobs", state="queued") == 1
    assert sample(samples, "sketch_queue_oldest_wait_seconds") >= 29
    assert sample(samples, "sketch_workers", state="idle") == 1
    assert sample(samples, "sketch_metrics_source_up", source="database") == 1
    assert sample(samples, "sketch_metrics_source_up", source="redis") == 1
    assert any(k[0] == "process_resident_memory_bytes" for k in samples)


@pytest.mark.django_db
def test_metrics_survive_a_lost_redis(bearer, admin_user):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = bearer(admin_user).get("/metrics")
    assert response.status_code == 200
    samples = parse(response.content.decode())
    assert sample(samples, "sketch_metrics_source_up", source="redis") == 0
    assert sample(samples, "sketch_metrics_source_up", source="database") == 1
