"""Logging: JSON lines in production, request ids on every line, and no secret ever logged.

* ``RedactSecretsFilter`` rewrites the message, the traceback and every extra field so that no
  token, cookie, password or signed query string reaches a log line (text or JSON).
* ``RequestContextFilter`` puts the current request id on each record: the web request's (set
  by ``RequestIdMiddleware`` in a context variable) or, inside an RQ job, the id of the request
  that created the sketch (the job's ``meta``).
* ``JsonFormatter`` writes one JSON object per line with the field names Cloud Logging reads
  (``severity``, ``message``, ``time``), and redacts once more after every value is a string.
"""

import contextvars
import logging
import re
from datetime import datetime

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

# The id of the request being served (RequestIdMiddleware sets and resets it), or inside a job's
# run the id of the request that created the job (sketches.worker.SketchWorker), with the job's id.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)

# JWTs (three base64url parts), query strings with credentials, auth headers and cookies.
_PATTERNS = [
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"), "[jwt]"),
    (
        re.compile(
            r"(?i)\b(token|access_token|refresh_token|password|passwd|secret|signature|x-amz-signature|"
            r"x-amz-credential|x-amz-security-token|awsaccesskeyid|sig|policy)=[^&\s\"']+"
        ),
        r"\1=[redacted]",
    ),
    (re.compile(r"(?i)(authorization|cookie|set-cookie)(\"?'?\s*[:=]\s*\"?'?)[^\"'\n]+"), r"\1\2[redacted]"),
]
# Extra fields whose whole value is a secret, whatever it looks like.
_SECRET_KEYS = re.compile(r"(?i)(password|passwd|secret|token|cookie|authorization|api_key|apikey|signature|credential)")
_STANDARD_ATTRS = frozenset(RESERVED_ATTRS) | {"message", "asctime", "request_id"}


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _describe(value):
    """Objects that must not be logged whole (a request's repr carries its query string)."""
    method, path = getattr(value, "method", None), getattr(value, "path", None)
    if isinstance(method, str) and isinstance(path, str):
        return f"{method} {path}"
    return value


def redact_value(key: str, value):
    if _SECRET_KEYS.search(key or "") and value not in (None, "", 0):
        return "[redacted]"
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value("", v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(_describe(value)))


class RedactSecretsFilter(logging.Filter):
    """Rewrites the formatted message and the extra fields in place, for every handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not swallow the record
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                record.__dict__[key] = redact_value(key, value)
        return True


# Control characters (C0, DEL, C1) and the Unicode line separators: a request path or header
# decoded to "\n" would otherwise start a forged line in a text log, and NUL bytes break readers.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_controls(text: str) -> str:
    return _CONTROL.sub(_escape_char, text)


def escape_value(value):
    if isinstance(value, str):
        return escape_controls(value)
    if isinstance(value, dict):
        return {k: escape_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_value(v) for v in value]
    return value


class EscapeControlsFilter(logging.Filter):
    """One record, one line: control characters in the message and the extra fields are written
    as escapes (``\\n``, ``\\x00``) in every format. A traceback keeps its line breaks, but each of
    its lines is indented, so text in an exception message cannot pass for a record of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        escaped = escape_controls(message)
        if escaped != message or record.args:
            record.msg, record.args = escaped, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and not getattr(record, "_escaped_exc_text", False):
            lines = record.exc_text.split("\n")
            record.exc_text = "\n".join("  " + escape_controls(line) for line in lines)
            record._escaped_exc_text = True  # a record passes through every handler's filters
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                record.__dict__[key] = escape_value(value)
        return True


def _current_job():
    try:
        from rq.job import get_current_job
    except ImportError:  # pragma: no cover - rq is a dependency
        return None
    try:
        return get_current_job()
    except Exception:
        return None


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` (and ``job_id`` inside an RQ job) unless the record carries them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None):
            return True
        request_id, job_id = request_id_var.get(), job_id_var.get()
        if request_id is None:  # django.request logs after the middleware ran: ask its request
            request_id = getattr(getattr(record, "request", None), "id", None)
        if request_id is None and job_id is None:  # a job run by any RQ worker class
            job = _current_job()
            if job is not None:
                request_id, job_id = (job.meta or {}).get("request_id") or None, job.id
        record.request_id = request_id
        if job_id and not getattr(record, "job_id", None):
            record.job_id = job_id
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: ``time, severity, logger, message, request_id`` and the extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "severity", "name": "logger", "exc_info": "traceback"})
        kwargs.setdefault("timestamp", "time")
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data):
        cleaned = {}
        for key, value in log_data.items():
            if key == "request_id" and value is None:
                continue
            cleaned[key] = value.isoformat() if isinstance(value, datetime) else redact_value(key, value)
        return cleaned
