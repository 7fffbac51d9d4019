"""Schemathesis hooks of ``fuzz/api_fuzz.py`` (loaded through ``SCHEMATHESIS_HOOKS=fuzz.st_hooks``).

1. ``before_load_schema`` adds OpenAPI links, so the stateful phase walks the real flow
   (register → login; presign → confirm → create → get / task / delete → get again; confirm →
   download-url), and gives the free-text fields whose values the server checks against a
   fixed list (content type, style, method) those values as an ``enum`` when the served schema
   does not have one yet; without them almost no generated request gets past validation.
   Nothing about responses is changed: what the checks validate is the served schema.
2. ``after_call`` plays the browser between presign and confirm: when a presign answers 201,
   it POSTs a small real image of the requested type to the returned URL with the returned
   fields, so that confirm, create and everything after them see real data.

3. ``RunLogin`` authenticates every call with the run's token, except logout, logout-all and
   password changes, which get a throwaway account's: they end the sending login at once, and
   the run's own token must live to the end.

Counters go to ``$FUZZ_HOOK_STATS`` (JSON) when the run ends.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import threading
from collections import Counter
from urllib.parse import urlsplit

import schemathesis

BASE_URL = os.environ.get("FUZZ_BASE_URL", "")
STATS_PATH = os.environ.get("FUZZ_HOOK_STATS", "")
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
# Canonical values the services accept (sketches.engine.catalog / settings.ALLOWED_FILE_TYPES).
CONTENT_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"]
STYLES = ["pencil", "charcoal", "watercolor", "ink", "pastel", "oil", "acrylic"]
METHODS = ["basic", "advanced", "artistic"]

_stats: Counter = Counter()
_lock = threading.Lock()
_images: dict[str, bytes] = {}


def _count(key: str, n: int = 1) -> None:
    with _lock:
        _stats[key] += n


@atexit.register
def _write_stats() -> None:
    if STATS_PATH:
        with open(STATS_PATH, "w") as handle:
            json.dump(dict(_stats), handle, indent=1, sort_keys=True)


# ----------------------------------------------------------------------------- schema
def _find(paths: dict, label: str) -> dict | None:
    """The operation "METHOD /path" of the schema, with or without the trailing slash."""
    method, path = label.split(" ", 1)
    method = method.lower()
    for candidate in (path, path.rstrip("/"), path.rstrip("/") + "/"):
        operation = paths.get(candidate, {}).get(method)
        if operation is not None:
            return operation
    return None


# (source operation, status, link name, target operation, parameters, requestBody)
# fmt: off
LINKS = [
    ("POST /api/auth/register/", "201", "LogIn", "POST /api/auth/login/",
     None, {"email": "$request.body#/email", "password": "$request.body#/password"}),
    ("POST /api/upload/presigned-url/", "201", "Confirm", "POST /api/upload/confirm/",
     None, {"upload_id": "$response.body#/upload_id"}),
    ("POST /api/upload/confirm/", "200", "CreateSketch", "POST /api/sketch/create/",
     None, {"upload_id": "$response.body#/id"}),
    ("POST /api/upload/confirm/", "200", "ConfirmAgain", "POST /api/upload/confirm/",
     None, {"upload_id": "$response.body#/id"}),
    ("POST /api/upload/confirm/", "200", "DownloadOriginal", "GET /api/upload/download-url/{key}",
     {"path.key": "$response.body#/key"}, None),
    ("POST /api/sketch/create/", "202", "GetSketch", "GET /api/sketch/{sketch_id}/",
     {"path.sketch_id": "$response.body#/id"}, None),
    ("POST /api/sketch/create/", "202", "GetTask", "GET /api/sketch/task/{task_id}/",
     {"path.task_id": "$response.body#/task_id"}, None),
    ("POST /api/sketch/create/", "202", "DeleteSketch", "DELETE /api/sketch/{sketch_id}/",
     {"path.sketch_id": "$response.body#/id"}, None),
    ("GET /api/sketch/{sketch_id}/", "200", "DeleteSketch", "DELETE /api/sketch/{sketch_id}/",
     {"path.sketch_id": "$response.body#/id"}, None),
    ("GET /api/sketch/{sketch_id}/", "200", "GetTask", "GET /api/sketch/task/{task_id}/",
     {"path.task_id": "$response.body#/task_id"}, None),
    ("GET /api/sketch/task/{task_id}/", "200", "GetSketch", "GET /api/sketch/{sketch_id}/",
     {"path.sketch_id": "$response.body#/sketch_id"}, None),
    ("GET /api/sketch/", "200", "GetFirstSketch", "GET /api/sketch/{sketch_id}/",
     {"path.sketch_id": "$response.body#/results/0/id"}, None),
    ("DELETE /api/sketch/{sketch_id}/", "204", "GetDeleted", "GET /api/sketch/{sketch_id}/",
     {"path.sketch_id": "$request.path.sketch_id"}, None),
]
# fmt: on

# (operation, request body property, values)
ENUMS = [
    ("POST /api/upload/presigned-url/", "content_type", CONTENT_TYPES),
    ("POST /api/sketch/create/", "style", STYLES),
    ("POST /api/sketch/create/", "method", METHODS),
]


def _resolve(raw: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = raw
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def augment_schema(raw: dict) -> dict:
    """Add the links and enums above to a served schema (in place); returns a report of changes."""
    paths = raw.get("paths", {})
    added = {"links": [], "enums": []}
    for source_label, status, name, target_label, parameters, body in LINKS:
        source, target = _find(paths, source_label), _find(paths, target_label)
        if source is None or target is None or "operationId" not in target:
            continue
        response = source.get("responses", {}).get(status)
        if response is None or "$ref" in response:
            continue
        links = response.setdefault("links", {})
        if name in links:
            continue  # the served schema has its own
        link = {"operationId": target["operationId"]}
        if parameters:
            link["parameters"] = parameters
        if body:
            link["requestBody"] = body
        links[name] = link
        added["links"].append(f"{source_label} {status} -> {name}")
    for label, prop, values in ENUMS:
        operation = _find(paths, label)
        if operation is None:
            continue
        for media in operation.get("requestBody", {}).get("content", {}).values():
            schema = _resolve(raw, media.get("schema", {}))
            field = schema.get("properties", {}).get(prop)
            if field is not None and "enum" not in field and "$ref" not in field:
                field["enum"] = list(values)
                field.pop("maxLength", None)
                added["enums"].append(f"{label} {prop}")
    return added


@schemathesis.hook
def before_load_schema(context, raw_schema):
    added = augment_schema(raw_schema)
    _count("schema_links_added", len(added["links"]))
    _count("schema_enums_added", len(set(added["enums"])))


# ----------------------------------------------------------------------------- the browser's upload
def _image_for(content_type: str) -> tuple[bytes, str]:
    from PIL import Image

    kind = content_type.strip().lower()
    if kind not in _images:
        image = Image.new("RGB", (64, 48), (200, 120, 40))
        image.paste((20, 40, 200), (16, 12, 48, 36))
        buffer = io.BytesIO()
        if kind in ("image/heic", "image/heif"):
            import pillow_heif

            pillow_heif.from_pillow(image).save(buffer, quality=60)
        else:
            image.save(
                buffer, {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}.get(kind, "PNG")
            )
        _images[kind] = buffer.getvalue()
    return _images[kind], kind


def _body_dict(case) -> dict:
    body = getattr(case, "body", None)
    return body if isinstance(body, dict) else {}


@schemathesis.hook
def after_call(context, case, response):
    operation = case.operation
    if operation.method.upper() != "POST" or not operation.path.rstrip("/").endswith("/upload/presigned-url"):
        return
    if response.status_code != 201:
        return
    try:
        answer = response.json()
        url, fields = answer["url"], answer["fields"]
    except Exception:
        _count("presign_unreadable")
        return
    import requests

    content_type = str(_body_dict(case).get("content_type") or fields.get("Content-Type") or "image/png")
    data, _ = _image_for(content_type)
    if BASE_URL:  # the app builds URLs from BASE_URL; make sure we talk to the process under test
        parts = urlsplit(url)
        url = BASE_URL.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        uploaded = requests.post(
            url, data=fields, files={"file": ("upload", data, content_type)}, headers=PROXY_HEADERS, timeout=30
        )
    except requests.RequestException:
        _count("browser_upload_error")
        return
    _count(f"browser_upload_{uploaded.status_code}")


# ----------------------------------------------------------------------------- the run's own login
# Logging out, out everywhere or changing the password ends the sending login at once (and
# logout-all every login of its account): these go out with the token of a throwaway account,
# so that the run's own token works to the end instead of turning every later answer into 401.
SESSION_ENDING = {("POST", "/api/auth/logout"), ("POST", "/api/auth/logout-all"), ("POST", "/api/auth/password")}


def _throwaway_token() -> str:
    import secrets

    import requests

    body = {"email": f"throwaway-{secrets.token_hex(6)}@example.com", "password": secrets.token_urlsafe(18)}
    response = requests.post(f"{BASE_URL}/api/auth/register", json=body, headers=PROXY_HEADERS, timeout=30)
    response.raise_for_status()
    _count("throwaway_logins")
    return response.json()["access_token"]


@schemathesis.auth(refresh_interval=None, retry_on=[])
class RunLogin:
    """The run's own token (``$FUZZ_TOKEN``), but a throwaway account's for the session-ending calls."""

    def get(self, case, context):
        return os.environ.get("FUZZ_TOKEN", "")

    def set(self, case, data, context):
        operation = case.operation
        ending = (operation.method.upper(), operation.path.rstrip("/")) in SESSION_ENDING
        token = _throwaway_token() if ending and BASE_URL else data
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {token}"
