"""The OpenAPI schema's prose and hooks (drf-spectacular): what the generated parts cannot say.

Wired in settings.SPECTACULAR_SETTINGS: ``DESCRIPTION``, ``TAGS``, ``PREPROCESSING_HOOKS`` and
``POSTPROCESSING_HOOKS``. No Django imports at module level: settings import this module.

- The paths are a contract existing clients rely on, written without a trailing slash (the URL
  patterns accept both); the preprocessing hook names them as the design does.
- Every error answer has the same JSON body, ``{"detail", "code"}`` plus ``errors`` for field
  errors; the postprocessing hook gives each 4xx/5xx response that body and adds the 401/403
  answers every authenticated operation can give.
- ``/health`` is a plain Django view and ``/ws`` a WebSocket: the first is added as an
  operation, the second is described below.
"""

DESCRIPTION = """
Turn photos into drawings and paintings: **7 styles** (pencil, charcoal, watercolor, ink, pastel,
oil, acrylic) × **3 methods** (basic, advanced, artistic). Jobs run in the background; their
progress arrives live over a WebSocket.

## Authentication

* **Browsers** log in with `POST /api/auth/login` (or the `/login/` page). The answer sets two
  HTTP-only cookies: `access_token` (short-lived JWT, 15 minutes by default) and `refresh_token`.
  Requests authenticated **by cookie** must pass Django's CSRF check on unsafe methods: send the
  value of the `csrftoken` cookie in the `X-CSRFToken` header. When an API call answers `401`,
  call `POST /api/auth/refresh` once (it rotates both cookies) and retry; if the refresh fails too,
  the session is over: log in again.
* **Other clients** send `Authorization: Bearer <access_token>` (the login, register and refresh
  answers carry `access_token` and its expiry in their bodies). The refresh token travels only in
  its HttpOnly cookie; a client that keeps cookies refreshes with an empty body, one that extracted
  the cookie's value may send `{"refresh": "<token>"}` instead.
  No CSRF header is needed with a bearer token.

Every login is a session: its tokens end together, at once. `POST /api/auth/logout` ends this
device's session (its access token too, and its WebSockets close with 4401);
`POST /api/auth/logout-all` ends every session of the account; a password change ends every
other one; a deactivated account's end too. Refresh tokens rotate on every use; sending a used
one again (a sign that someone else holds it) ends its whole session.
The browsable API (open any `/api/...` URL in a logged-in browser) uses the same cookies.

## Making a sketch

1. `POST /api/upload/presigned-url` with `{filename, content_type, size}` → `201 {upload_id, key,
   url, fields, expires_in}`. The type must be one of the allowed image types and the size
   within the limit (20 MB by default).
2. `POST` the file to `url` as `multipart/form-data`: every entry of `fields` first, then the file
   in a field named **`file`**, last. This goes straight to the storage (an S3 presigned POST,
   or `/api/upload/local` on a server without S3, which takes the same form). It answers `204`
   (or `201`), or an S3-style XML error such as `EntityTooLarge` or `AccessDenied` (expired).
   A local upload body over `MAX_FILE_SIZE` + 64 KB is refused before it is read: `413
   request_too_large`.
   A form takes one file: `/api/upload/local` answers `409 UploadClosed` once a file was sent
   with it or its upload was confirmed, rejected or deleted; ask for a new form instead.
3. `POST /api/upload/confirm` with `{upload_id}`: the server checks what arrived (size, the real
   image type from its bytes, the pixel count, and for a JPEG at most 100 progressive scans) and
   answers `200` with the upload, or `400` with the reason (and deletes the file). The sketch
   job later uses the file only if its size and ETag are still what confirm recorded.
4. `POST /api/sketch/create` with `{upload_id, style, method, options}` → `202` and the sketch,
   `status: "queued"`. `options`: `strength` and `detail` (0–1, default 0.5), `seed`, `format`
   (`png`, `jpeg`, `webp`) and `quality`. One upload can be drawn many times, in any style.
5. Follow it over the WebSocket (below), or poll `GET /api/sketch/{id}` or
   `GET /api/sketch/task/{task_id}`. `status` goes `queued → processing → completed | failed`
   (or `cancelled`); `progress` is 0–100 and `stage` one of `download`, `decode`, `render`,
   `encode`, `upload`.
6. Once `completed`, `result_url` is a short-lived download link (served as an attachment; it
   also works as an `<img src>`), and `thumbnail_url` a small JPEG of it (longer side 480 px) for
   lists. `GET /api/upload/download-url/{key}` hands out a fresh link for a
   file you own. `DELETE /api/sketch/{id}` cancels a running job and removes the result.

A user may have a limited number of sketches queued or processing at once
(`MAX_CONCURRENT_TASKS`, 5 by default); past it, create answers `429` with `too_many_tasks`.

## Errors

Every error has the same JSON body:

```json
{"detail": "A sentence for people.", "code": "machine_readable_code", "errors": {"field": ["..."]}}
```

`errors` appears only for field validation errors. Codes you may meet:

| code | status | meaning |
| --- | --- | --- |
| `invalid`, `required`, `invalid_style`, `invalid_method`, ... | 400 | a field is missing or wrong (see `errors`) |
| `unsupported_type` | 400 | the content type (declared, or found in the bytes) is not an allowed image type |
| `file_too_large` | 400 | the file is over `MAX_FILE_SIZE` |
| `empty_file` | 400 | the file is empty |
| `image_too_large` | 400 | the image has more pixels than the server decodes |
| `corrupt_image` | 400 | the bytes are damaged or truncated |
| `unsupported_image` | 400 | not an image of an allowed format (e.g. HTML renamed `.png`) |
| `upload_missing` | 400 | confirm was called before the file was posted to storage |
| `upload_rejected`, `upload_not_confirmed` | 400 | the upload failed its checks / is not confirmed yet |
| `not_authenticated`, `authentication_failed`, `token_not_valid` | 401 | log in, or refresh the access token |
| `csrf_failed` | 403 | cookie-authenticated unsafe request without a valid `X-CSRFToken` |
| `permission_denied` | 403 | not allowed |
| `not_found` | 404 | no such object **of yours** (other users' objects are never revealed) |
| `sketch_not_completed` | 409 | only a completed sketch can be shared |
| `request_too_large` | 413 | the body is over what the address takes (the detail says how much); the connection closes |
| `too_many_tasks` | 429 | too many sketches in progress: wait for one to finish |
| `throttled` | 429 | too many login or registration attempts; see `Retry-After` |
| `storage_unavailable` | 503 | the file storage is down: try again later |

## Live progress: `WS /ws`

Connect to `ws(s)://<host>/ws`. Browsers are authenticated by the `access_token` cookie (the
`Origin` must be this site); other clients add `?token=<access JWT>` or an
`Authorization: Bearer` header. The server speaks JSON:

* first, always: `{"type": "sketch.snapshot", "sketches": [<sketch>, ...]}`, your **unfinished**
  sketches (queued or processing), so that a client that reconnects catches up;
* then, for every change of one of your sketches:
  `{"type": "sketch.update", "sketch": <sketch>}`, where `<sketch>` has exactly the fields of
  `GET /api/sketch/{id}` (full state, not a diff);
* send `{"type": "ping"}` → `{"type": "pong"}` (keep-alive); send `{"type": "snapshot"}` to get a
  fresh snapshot; anything else → `{"type": "error", "detail": "..."}`.

Close codes: **4401** not authenticated, the access token expired (refresh it with
`POST /api/auth/refresh`, then reconnect) or the session was ended (logout, log out everywhere,
password change: log in again), **4403** the `Origin` is not allowed, **4003** a binary frame
(messages are JSON text), **4503** the server is restarting (reconnect). Delivery is at-most-once: reconnect with back-off, rely on the snapshot
(and `GET /api/sketch/{id}` for sketches that finished while you were away). The database is the
truth; the socket only carries news of it.
""".strip()

TAGS = [
    {"name": "auth", "description": "Register, log in, refresh, log out; the current user."},
    {"name": "upload", "description": "Presigned uploads straight to storage, their confirmation, download links."},
    {"name": "sketch", "description": "Create sketches from uploads, follow them, list and delete them; the style catalog."},
    {"name": "health", "description": "Liveness and the state of each dependency."},
]

# Paths the design writes with a trailing slash; every other one is written without.
_KEEP_SLASH = {"/api/sketch/"}


def preprocess(endpoints):
    """Name the paths as the design does: ``/api/auth/login``, not ``/api/auth/login/``.

    The URL patterns end in ``/?$`` (both spellings work); drf-spectacular writes them with the
    slash. Drops the docs' own views and anything outside /api/.
    """
    result = []
    for path, path_regex, method, callback in endpoints:
        if not path.startswith("/api/") or path.startswith(("/api/schema", "/api/docs")):
            continue
        if path.endswith("/") and path not in _KEEP_SLASH and path_regex.endswith("/?$"):
            path = path.rstrip("/")
        result.append((path, path_regex, method, callback))
    return result


ERROR_SCHEMA = {
    "type": "object",
    "description": "The body of every error answer.",
    "properties": {
        "detail": {
            "type": "string",
            "description": "A sentence for people.",
            "example": "The file is 25 MB; the limit is 20 MB.",
        },
        "code": {
            "type": "string",
            "description": "A machine-readable code (see the table in the description).",
            "example": "file_too_large",
        },
        "errors": {
            "type": "object",
            "description": "Field validation errors only: each field's messages (nested for nested fields, e.g. options).",
            "additionalProperties": {
                "oneOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                ]
            },
        },
    },
    "required": ["detail", "code"],
}

_UNSAFE = {"post", "put", "patch", "delete"}

HEALTH_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unhealthy"]},
        "failed": {"type": "array", "items": {"type": "string"}, "description": "The checks that fail."},
        "checks": {"type": "object", "additionalProperties": {"type": "object"}, "description": "`{name: {ok}}`"},
        "app": {"type": "string", "description": "Admins and `METRICS_TOKEN` only, as the fields below."},
        "version": {"type": "string"},
        "uptime_s": {"type": "number"},
        "system": {"type": "object", "description": "CPU, memory, disk and process metrics."},
    },
    "required": ["status", "failed", "checks"],
}

HEALTH_OPERATION = {
    "operationId": "health",
    "summary": "Health of the service and its dependencies",
    "description": (
        "Checks the database, Redis (when configured), the storage and the workers. `200` when everything "
        "answers, `503` with `failed` naming what does not. Anyone sees each check's `ok`; an admin or "
        "`Authorization: Bearer <METRICS_TOKEN>` also gets latencies, errors, workers, queue depth, "
        "version and system metrics. "
        "`/health/live` (the process answers) and `/health/ready` (it can serve) are the cheap probes."
    ),
    "tags": ["health"],
    "security": [],
    "responses": {
        "200": {"description": "Healthy", "content": {"application/json": {"schema": HEALTH_SCHEMA}}},
        "503": {
            "description": "A dependency fails: `status` is `unhealthy` and `failed` lists the failing checks.",
            "content": {"application/json": {"schema": HEALTH_SCHEMA}},
        },
    },
}


def postprocess(result, generator, request, public):
    """Error bodies on every error answer, the auth errors, and /health."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if "requestBody" in operation:  # any body can be malformed JSON or fail validation
                responses.setdefault("400", {"description": "Malformed JSON or invalid fields: see `errors`."})
            if method == "get" and any(p.get("name") == "page" for p in operation.get("parameters", [])):
                responses.setdefault("404", {"description": "The page number is out of range."})
            security = operation.get("security")
            needs_auth = bool(security) and {} not in security
            if needs_auth:
                responses.setdefault(
                    "401",
                    {
                        "description": "Not logged in, or the access token expired: refresh it (`POST /api/auth/refresh`) and retry."
                    },
                )
                if method in _UNSAFE:
                    responses.setdefault(
                        "403",
                        {
                            "description": "CSRF check failed: with cookie authentication, send the `csrftoken` cookie's value as `X-CSRFToken`."
                        },
                    )
            for status, response in responses.items():
                if str(status)[0] in "45" and "content" not in response:
                    response["content"] = error_content
    result.setdefault("paths", {})["/health"] = {"get": HEALTH_OPERATION}
    return result
