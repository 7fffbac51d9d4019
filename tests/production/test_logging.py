"""JSON logs: one line per request with its fields, request ids into jobs, nothing secret."""

import io
import json
import logging

import pytest

from sketchsite.logging import JsonFormatter, RedactSecretsFilter, RequestContextFilter, redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl"


@pytest.fixture
def json_lines():
    """Capture what the production handler would write: context + redact filters, JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RequestContextFilter())
    handler.addFilter(RedactSecretsFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    loggers = [logging.getLogger("django")]  # the one logger that does not propagate to the root
    saved = [(lg, lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield read
    root.removeHandler(handler)
    for lg, propagate, level in saved:
        lg.removeHandler(handler)
        lg.propagate, lg.level = propagate, level


def test_settings_choose_json_without_debug_and_filters_everything():
    from django.conf import settings

    handler = settings.LOGGING["handlers"]["console"]
    assert handler["formatter"] == "json"
    assert handler["filters"] == ["context", "redact", "escape"]
    assert settings.LOGGING["loggers"]["daphne"]["level"] == "WARNING"


def test_one_json_line_per_request_without_query_string(client, json_lines, user):
    from accounts.tokens import issue_pair

    response = client.get(f"/api/sketch/styles/available?token={JWT}&x=1", HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")
    assert response.status_code == 200
    lines = [line for line in json_lines() if line.get("logger") == "sketchsite.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET" and line["path"] == "/api/sketch/styles/available" and line["status"] == 200
    assert line["route"] == "/api/sketch/styles/available/?"
    assert isinstance(line["duration_ms"], float) and line["severity"] == "INFO"
    assert line["request_id"] == response["X-Request-ID"]
    assert "token" not in json.dumps(line) and JWT not in json.dumps(line)


def test_request_line_names_the_user(client, json_lines, user):
    from accounts.tokens import issue_pair

    client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")
    line = next(line for line in json_lines() if line.get("logger") == "sketchsite.request")
    assert line["user_id"] == user.pk and line["status"] == 200


def test_upstream_request_id_is_kept_when_plain_and_replaced_when_not(client):
    assert client.get("/health/live").status_code == 200
    response = client.get("/api/sketch/styles/available", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    response = client.get("/api/sketch/styles/available", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert response["X-Request-ID"] != "<script>alert(1)</script>" and len(response["X-Request-ID"]) == 32
    trace = "105445aa7843bc8bf206b12000100000/1;o=1"
    response = client.get("/api/sketch/styles/available", HTTP_X_CLOUD_TRACE_CONTEXT=trace)
    assert response["X-Request-ID"] == "105445aa7843bc8bf206b12000100000", (
        "Cloud Run's trace id ties our lines to its request log"
    )


@pytest.mark.urls("tests.production.urls")
def test_log_lines_inside_a_request_carry_its_id(client, json_lines):
    response = client.get("/noisy/7")
    inside = next(line for line in json_lines() if line["message"] == "inside the view")
    assert inside["request_id"] == response["X-Request-ID"]
    request_line = next(line for line in json_lines() if line.get("logger") == "sketchsite.request")
    assert request_line["route"] == "/noisy/<int:number>", "metrics and logs label by pattern, not by raw path"


def test_django_request_warnings_carry_the_request_id_and_no_query(client, json_lines):
    response = client.get("/api/sketch/does-not-exist?token=abc")
    assert response.status_code in (401, 404)
    lines = [line for line in json_lines() if line.get("logger") == "django.request"]
    assert lines and lines[0]["request_id"] == response["X-Request-ID"]
    assert "token=abc" not in json.dumps(lines)


def test_job_log_lines_carry_the_request_id_of_the_creating_request(json_lines):
    """Inside an RQ job, records get the request id from the job's meta (set at enqueue)."""
    from redis import Redis
    from rq.job import Job, _current_job

    job = Job.create(print, connection=Redis(), id="job-1", meta={"request_id": "req-42", "sketch_id": "s-1"})
    token = _current_job.set(job)
    try:
        logging.getLogger("sketches.storage").warning("retrying a read")
    finally:
        _current_job.reset(token)
    line = next(line for line in json_lines() if line["message"] == "retrying a read")
    assert line["request_id"] == "req-42" and line["job_id"] == "job-1"


def test_redaction_covers_message_extras_and_tracebacks(json_lines):
    log = logging.getLogger("sketches.test")
    log.info(
        "GET /ws?token=%s cookie: access_token=%s",
        JWT,
        JWT,
        extra={
            "url": "https://s3/x?X-Amz-Signature=abc&X-Amz-Credential=AKIA/x",
            "password": "hunter2",
            "headers": {"Authorization": "Bearer x"},
        },
    )
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        log.exception("failed with password=hunter2")
    dumped = json.dumps(json_lines())
    for secret in (JWT, "hunter2", "X-Amz-Signature=abc", "AKIA/x", "Bearer x"):
        assert secret not in dumped, secret
    lines = json_lines()
    assert lines[0]["password"] == "[redacted]" and lines[0]["headers"]["Authorization"] == "[redacted]"
    assert "Traceback" in lines[1]["traceback"] and "[jwt]" in lines[1]["traceback"]


def test_text_redaction_patterns():
    assert redact("Cookie: access_token=abc; refresh_token=def") == "Cookie: [redacted]"
    assert redact("/files/x?sig=123&exp=9") == "/files/x?sig=[redacted]&exp=9"
    assert redact(f"Authorization: Bearer {JWT}") == "Authorization: [redacted]"


@pytest.mark.django_db
def test_a_sketch_keeps_the_id_of_the_request_that_created_it(bearer, user):
    """Its job's log lines carry that id, tying them to the web's line for the create."""
    from sketches.models import Sketch, Upload

    upload = Upload.objects.create(owner=user, key=f"uploads/{user.pk}/x.jpg", content_type="image/jpeg", status="confirmed")
    response = bearer(user).post(
        "/api/sketch/create",
        {"upload_id": str(upload.pk), "style": "ink", "method": "basic"},
        format="json",
        HTTP_X_REQUEST_ID="create-req-7",
    )
    assert response.status_code == 202, response.content
    assert Sketch.objects.get(pk=response.json()["id"]).request_id == "create-req-7"
