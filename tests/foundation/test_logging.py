"""No token, cookie, password or query string reaches a log line."""

import logging

import pytest
from django.test import Client

from accounts.tokens import issue_pair
from sketchsite.logging import RedactSecretsFilter, redact

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiMSJ9.c2lnbmF0dXJlLXBhcnQtMTIz"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"connected with {JWT}", JWT),
        (f"GET /ws?token={JWT}", JWT),
        ("GET /ws?token=opaque-value-123&x=1", "opaque-value-123"),
        ("GET /api?access_token=abc123&refresh_token=def456", "abc123"),
        ("GET /api?access_token=abc123&refresh_token=def456", "def456"),
        ("login failed password=hunter2", "hunter2"),
        ("Authorization: Bearer sekrit-token", "sekrit-token"),
        ('{"Authorization": "Bearer sekrit-token"}', "sekrit-token"),
        ("{'authorization': 'Bearer sekrit-token'}", "sekrit-token"),
        ("Cookie: access_token=abc; csrftoken=xyz987", "xyz987"),
        ("Set-Cookie: refresh_token=abc-ref; Path=/; HttpOnly", "abc-ref"),
        ("https://bucket.s3.amazonaws.com/k?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA", "deadbeef"),
    ],
)
def test_redact_removes_secrets(text, secret):
    cleaned = redact(text)
    assert secret not in cleaned, cleaned


def test_redact_keeps_harmless_text():
    text = "GET /api/sketch/42 200 12.5ms user=7"
    assert redact(text) == text


def test_filter_rewrites_args_and_tracebacks():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "user sent %s", (f"token={JWT}",), None)
    try:
        raise ValueError(f"bad {JWT}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactSecretsFilter().filter(record) is True
    assert JWT not in record.getMessage()
    formatted = logging.Formatter().format(record)
    assert JWT not in formatted and "signature-part" not in formatted


@pytest.mark.django_db
def test_request_with_a_query_token_is_logged_without_the_query(caplog, user):
    token = issue_pair(user).access
    with caplog.at_level(logging.INFO, logger="sketchsite.request"):
        response = Client().get(f"/health?token={token}&x=1")
    assert response.status_code in (200, 503)
    lines = [r for r in caplog.records if r.name == "sketchsite.request"]
    assert lines, "the request was not logged"
    message = lines[-1].getMessage()
    assert message.startswith("GET /health ") and "?" not in message
    assert token not in message and "token=" not in message
    for record in caplog.records:
        assert token not in record.getMessage()
        assert token not in str(record.__dict__)


@pytest.mark.django_db
def test_the_console_handler_redacts(settings):
    handler_filters = settings.LOGGING["handlers"]["console"]["filters"]
    assert "redact" in handler_filters
    assert settings.LOGGING["filters"]["redact"]["()"] == "sketchsite.logging.RedactSecretsFilter"
