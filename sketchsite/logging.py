"""Log filters: no token, cookie, password or query string ever reaches a log line."""

import logging
import re

# JWTs (three base64url parts), query strings with credentials, auth headers and cookies.
_PATTERNS = [
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"), "[jwt]"),
    (re.compile(r"(?i)\b(token|access_token|refresh_token|password|signature|x-amz-signature|x-amz-credential|sig)=[^&\s\"']+"), r"\1=[redacted]"),
    (re.compile(r"(?i)(authorization|cookie|set-cookie)(\"?\s*[:=]\s*\"?)[^\"\n]+"), r"\1\2[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites the formatted message in place; every handler gets the redacted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not swallow the record
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
