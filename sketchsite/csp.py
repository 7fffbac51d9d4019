"""The Content-Security-Policy's directives, in django-csp's ``CONTENT_SECURITY_POLICY`` shape.

Pages load scripts and styles from our own static files only (no inline code). The browser also
talks to the S3 endpoint (presigned POST uploads, presigned GET images) and to /ws.
"""

from urllib.parse import urlsplit

SELF = "'self'"
NONE = "'none'"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def storage_origins(*, bucket: str, region: str, endpoint_url: str | None) -> list[str]:
    """The origins the browser reaches storage at; none for local media (served by this site)."""
    if bucket and endpoint_url:
        return [origin_of(endpoint_url)]
    if bucket:
        return [f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com"]
    return []


def directives(*, site_origin: str, storage: list[str], extra: list[str]) -> dict[str, list[str]]:
    socket = site_origin.replace("https://", "wss://", 1).replace("http://", "ws://", 1) if site_origin else ""
    policy = {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *storage, *extra],
        "font-src": [SELF],
        "connect-src": [SELF, *([socket] if socket else []), *storage, *extra],
        "form-action": [SELF, *storage],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
    return {name: list(dict.fromkeys(sources)) for name, sources in policy.items()}
