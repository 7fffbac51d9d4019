"""``/health``: each dependency with its latency, app name and version, uptime, system metrics; 503 naming the failure."""

import pytest
import requests
from django.test import Client, override_settings

from tests.support.processes import free_port

pytestmark = pytest.mark.django_db

METRICS_TOKEN = "health-test-metrics-token-0123456789abcdefghij"


@pytest.fixture(autouse=True)
def _metrics_token(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN


def details(**extra):
    """/health as an operator reads it: the full report."""
    return Client().get("/health", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}", **extra)


def assert_health_body(body):
    assert body["app"] and body["version"]
    assert isinstance(body["uptime_s"], (int, float)) and body["uptime_s"] >= 0
    for name in ("database", "redis", "storage"):
        check = body["checks"][name]
        assert isinstance(check["ok"], bool), name
        assert isinstance(check["latency_ms"], (int, float)) and check["latency_ms"] >= 0, name
    system = body["system"]
    assert 0 <= system["cpu_percent"] <= 100 * (system["cpu_count"] or 1)
    assert system["memory"]["total_mb"] > 0 and 0 <= system["memory"]["percent"] <= 100
    assert system["disk"]["total_gb"] > 0 and 0 <= system["disk"]["percent"] <= 100
    assert system["process"]["rss_mb"] > 0


def test_health_is_200_when_everything_answers(settings):
    response = details()
    assert response.status_code == 200, response.content
    body = response.json()
    assert_health_body(body)
    assert body["status"] == "ok" and body["failed"] == []
    assert body["app"] == settings.APP_NAME and body["version"] == settings.APP_VERSION
    assert body["checks"]["database"]["engine"] == "postgresql"
    assert body["checks"]["storage"]["backend"]
    assert all(check["ok"] for check in body["checks"].values())
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_health_needs_no_login_and_no_trailing_slash():
    response = Client().get("/health", HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200


def test_health_is_503_naming_redis_when_redis_is_down():
    closed = free_port()  # nothing listens there
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed}/0"):
        response = details()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] != "ok"
    assert "redis" in body["failed"]
    assert "database" not in body["failed"]
    redis_check = body["checks"]["redis"]
    assert redis_check["ok"] is False and "Connection" in redis_check["error"]
    assert redis_check["latency_ms"] < 5000
    assert_health_body(body)


def test_health_is_503_naming_the_database_when_it_fails(monkeypatch):
    from sketchsite import health

    def broken():
        raise RuntimeError("database is on fire")

    monkeypatch.setitem(health.dependency_checks.__globals__, "check_database", broken)
    response = details()
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database"]
    assert "on fire" in body["checks"]["database"]["error"]


def test_without_redis_there_is_no_redis_check():
    with override_settings(REDIS_URL=""):
        body = details().json()
    assert "redis" not in body["checks"]


@pytest.mark.django_db(transaction=True)
def test_health_over_daphne(web):
    """The attack: with DEBUG off, anyone read load, memory, disk, threads and the version here."""
    response = requests.get(f"{web.http}/health", timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "failed": [],
        "checks": {name: {"ok": True} for name in ("database", "storage", "redis", "workers")},
    }
    ready = requests.get(f"{web.http}/health/ready", timeout=30).json()
    assert ready == {"status": "ok", "failed": [], "checks": {name: {"ok": True} for name in ("database", "storage", "redis")}}
    assert set(requests.get(f"{web.http}/health/live", timeout=30).json()) <= {"status", "uptime_s"}


def test_health_details_need_an_admin_or_the_metrics_token(make_user, settings):
    from accounts.tokens import issue_pair

    def body(**headers):
        return Client().get("/health", **headers).json()

    anonymous, forged = body(), body(HTTP_AUTHORIZATION="Bearer not-the-token")
    plain_user = body(HTTP_AUTHORIZATION=f"Bearer {issue_pair(make_user()).access}")
    for public in (anonymous, forged, plain_user):
        assert set(public) == {"status", "failed", "checks"}, public
        assert all(set(check) == {"ok"} for check in public["checks"].values()), public
    admin = body(HTTP_AUTHORIZATION=f"Bearer {issue_pair(make_user(role='admin')).access}")
    operator = body(HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    for full in (admin, operator):
        assert_health_body(full)
        assert full["version"] == settings.APP_VERSION
