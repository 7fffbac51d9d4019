"""No token, cookie, password or query string reaches a log line."""

import logging
import time

import pytest
from django.test import Client

from accounts.tokens import issue_pair
from sketchsite.logging import EscapeControlsFilter, RedactSecretsFilter, redact

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


# ----------------------------------------------------------------------------- log injection
def test_control_characters_are_escaped_in_message_extras_and_tracebacks():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "GET %s", ("/a\nFORGED-LINE\x00\r\u2028",), None)
    record.path = "/a\nFORGED"
    try:
        raise ValueError("bad\nFORGED-TRACE")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert EscapeControlsFilter().filter(record) is True
    formatted = logging.Formatter("%(asctime)s %(levelname)s %(message)s").format(record)
    assert record.getMessage() == "GET /a\\nFORGED-LINE\\x00\\r\\u2028"
    assert record.path == "/a\\nFORGED"
    lines = formatted.splitlines()
    assert lines[0].endswith("GET /a\\nFORGED-LINE\\x00\\r\\u2028")
    assert all(line.startswith("  ") for line in lines[1:]), lines  # the traceback: indented, never a record
    assert "\x00" not in formatted


def test_a_forged_line_in_the_path_stays_on_its_line(web):
    """The attack: ``GET /nothing%0aFORGED-LINE`` wrote a line of its own in the text log; NUL went in raw."""
    import socket

    before = len(web.log())
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as conn:
        request = b"GET /nothing%0aFORGED-LINE%00%0d HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
        conn.sendall(request + b"Connection: close\r\n\r\n")
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 404"), reply[:200]
    deadline = time.monotonic() + 10
    while "FORGED-LINE" not in web.log()[before:] and time.monotonic() < deadline:
        time.sleep(0.1)
    written = web.log()[before:]
    assert "GET /nothing\\nFORGED-LINE\\x00\\r 404" in written, written[-2000:]
    assert not any(line.startswith("FORGED-LINE") for line in written.splitlines()), written[-2000:]
    assert "\x00" not in written
