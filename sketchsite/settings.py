"""Settings of the sketch service: one module, every value from the environment.

The names are kept stable, so existing ``.env`` files keep working. With none of
DATABASE_URL, REDIS_URL or AWS_BUCKET_NAME set, everything falls back to the embedded default:
SQLite and media under ``var/``, the in-memory channel layer and an in-process worker.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from . import csp, keys
from .env import (
    SettingError,
    get_bool,
    get_int,
    get_list,
    get_str,
    load_dotenv_file,
    normalise_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv_file(os.environ.get("ENV_FILE", str(BASE_DIR / ".env")))
ENV = os.environ

# Must be in place before anything imports cv2 (the engine sets a default of its own too).
MAX_IMAGE_PIXELS = get_int(ENV, "MAX_IMAGE_PIXELS", 50_000_000, minimum=1)
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))

try:
    DEBUG = get_bool(ENV, "DEBUG", False)
    APP_NAME = get_str(ENV, "APP_NAME", "Sketch Studio")
    APP_VERSION = get_str(ENV, "APP_VERSION", "1.0.0")
    BASE_URL = get_str(ENV, "BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    VAR_DIR = Path(get_str(ENV, "VAR_DIR", str(BASE_DIR / "var")))
    TEMP_DIR = get_str(ENV, "TEMP_DIR", str(VAR_DIR / "tmp"))
    MAX_FILE_SIZE = get_int(ENV, "MAX_FILE_SIZE", 20 * 1024 * 1024, minimum=1)
    ALLOWED_FILE_TYPES = [
        t.lower()
        for t in get_list(
            ENV, "ALLOWED_FILE_TYPES", ["image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"]
        )
    ]
    MAX_CONCURRENT_TASKS = get_int(ENV, "MAX_CONCURRENT_TASKS", 5, minimum=1)
    USER_STORAGE_QUOTA = get_int(ENV, "USER_STORAGE_QUOTA", 2 * 1024**3, minimum=0)  # bytes; 0: no limit
    MAX_PENDING_UPLOADS = get_int(ENV, "MAX_PENDING_UPLOADS", 10, minimum=1)
    TASK_TIMEOUT = get_int(ENV, "TASK_TIMEOUT", 300, minimum=5)
    ALLOWED_ORIGINS = [o.rstrip("/") for o in get_list(ENV, "ALLOWED_ORIGINS", [])]
    SECRET_KEY = get_str(ENV, "DJANGO_SECRET_KEY", "")
    JWT_SECRET_KEY = get_str(ENV, "JWT_SECRET_KEY", "")
    JWT_ALGORITHM = get_str(ENV, "JWT_ALGORITHM", "HS256").upper()
    JWT_ACCESS_TOKEN_EXPIRE_MINUTES = get_int(ENV, "JWT_ACCESS_TOKEN_EXPIRE_MINUTES", 15, minimum=1)
    JWT_REFRESH_TOKEN_EXPIRE_DAYS = get_int(ENV, "JWT_REFRESH_TOKEN_EXPIRE_DAYS", 14, minimum=1)
    DATABASE_URL = normalise_database_url(get_str(ENV, "DATABASE_URL", ""))
    REDIS_URL = get_str(ENV, "REDIS_URL", "")
    AWS_ACCESS_KEY_ID = get_str(ENV, "AWS_ACCESS_KEY_ID", "")
    AWS_SECRET_ACCESS_KEY = get_str(ENV, "AWS_SECRET_ACCESS_KEY", "")
    AWS_REGION = get_str(ENV, "AWS_REGION", "us-east-1")
    AWS_BUCKET_NAME = get_str(ENV, "AWS_BUCKET_NAME", "")
    AWS_S3_ENDPOINT_URL = get_str(ENV, "AWS_S3_ENDPOINT_URL", "") or None
    AWS_PRESIGNED_URL_EXPIRATION = get_int(ENV, "AWS_PRESIGNED_URL_EXPIRATION", 900, minimum=30)
    # Unset, the hosts are the loopback names plus BASE_URL's (existing .env files have no ALLOWED_HOSTS).
    _base_host = urlsplit(BASE_URL).hostname or ""
    _base_host = f"[{_base_host}]" if ":" in _base_host else _base_host
    _default_hosts = ["127.0.0.1", "localhost", "[::1]"] + (
        [_base_host] if _base_host not in ("", "127.0.0.1", "localhost", "[::1]") else []
    )
    ALLOWED_HOSTS = get_list(ENV, "ALLOWED_HOSTS", _default_hosts)
except SettingError as exc:
    raise ImproperlyConfigured(str(exc)) from None

if JWT_ALGORITHM not in {"HS256", "HS384", "HS512"}:
    raise ImproperlyConfigured(f"JWT_ALGORITHM must be HS256, HS384 or HS512, not {JWT_ALGORITHM!r}")

# ----------------------------------------------------------------------------- secrets
# The embedded default: none of the services is configured, so every process of this install
# shares VAR_DIR, and a key generated there once serves them all (daphne, manage.py commands).
EMBEDDED = not (DATABASE_URL or REDIS_URL or AWS_BUCKET_NAME)
LOCAL_SECRET_FILE = VAR_DIR / "secret_key"
SECRET_KEY, JWT_SECRET_KEY = keys.signing_keys(
    SECRET_KEY, JWT_SECRET_KEY, debug=DEBUG, embedded=EMBEDDED, local_file=LOCAL_SECRET_FILE
)
if not DEBUG and "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS=* is refused with DEBUG off: list the host names this service answers to.")

# ----------------------------------------------------------------------------- apps
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "csp",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files served from here, not a CDN
    "channels",
    "django_rq",
    "accounts",
    "sketches",
]

MIDDLEWARE = [
    "sketchsite.health.ProbeMiddleware",  # /health/live and /health/ready: before host checks and redirects
    "sketchsite.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.JWTCookieMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sketchsite.urls"
WSGI_APPLICATION = "sketchsite.wsgi.application"
ASGI_APPLICATION = "sketchsite.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sketchsite.context_processors.site",
            ],
        },
    },
]

# ----------------------------------------------------------------------------- database
if DATABASE_URL:
    try:
        # conn_max_age=0: under ASGI each request runs in a fresh thread, so persistent connections are never
        # reused and pile up until PostgreSQL refuses more (make load shows it). A pool instead: each
        # request borrows a connection and gives it back, without paying for a new one (~2 ms of CPU).
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)}
    except Exception as exc:  # dj-database-url raises bare ValueError/KeyError on unknown schemes
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from None
    try:
        DATABASE_POOL_MAX_SIZE = get_int(ENV, "DATABASE_POOL_MAX_SIZE", 20, minimum=0)
        DATABASE_POOL_TIMEOUT = get_int(ENV, "DATABASE_POOL_TIMEOUT", 5, minimum=1)
    except SettingError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    if DATABASE_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # With CONN_HEALTH_CHECKS the pool checks each connection it lends: a terminated backend is replaced.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, DATABASE_POOL_MAX_SIZE),
            "max_size": DATABASE_POOL_MAX_SIZE,
            "timeout": DATABASE_POOL_TIMEOUT,  # a request waits this long for a free connection, then 503
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # WAL lets the in-process worker write progress while requests read.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

# ----------------------------------------------------------------------------- redis: cache, channels, queues
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 defaults: a 5 s socket timeout (shorter than channels-redis's 5 s BZPOPMIN wait, so idle
            # sockets died) and 100 pooled connections that fail instead of waiting (the drills show it).
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "max_connections": 1000}],
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

SKETCH_QUEUE_NAME = "sketches"
# A processing sketch whose job has saved nothing for this long is treated as lost.
SKETCH_STALE_AFTER = get_int(ENV, "SKETCH_STALE_AFTER", 60, minimum=5)
RECONCILE_INTERVAL = get_int(ENV, "RECONCILE_INTERVAL", 30, minimum=1)
# Without Redis the same job function runs in threads of the web process.
USE_INPROCESS_WORKER = not REDIS_URL
INPROCESS_WORKER_THREADS = get_int(ENV, "INPROCESS_WORKER_THREADS", 1, minimum=1)
RQ_QUEUES = {
    SKETCH_QUEUE_NAME: {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": TASK_TIMEOUT},
}
# django-rq's admin entry needs Redis; the embedded default has none.
RQ_SHOW_ADMIN_LINK = bool(REDIS_URL)
# SketchWorker: RQ's worker that hands a running job back to the queue when stopped (sketches/worker.py).
RQ = {"COMMIT_MODE": "on_db_commit", "WORKER_CLASS": "sketches.worker.SketchWorker"}

# ----------------------------------------------------------------------------- storage
MEDIA_ROOT = Path(get_str(ENV, "MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
USE_S3 = bool(AWS_BUCKET_NAME)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if USE_S3:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_BUCKET_NAME,
            "access_key": AWS_ACCESS_KEY_ID or None,
            "secret_key": AWS_SECRET_ACCESS_KEY or None,
            "region_name": AWS_REGION,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "signature_version": "s3v4",
            "addressing_style": "path" if AWS_S3_ENDPOINT_URL else None,
            "querystring_expire": AWS_PRESIGNED_URL_EXPIRATION,
            "file_overwrite": False,
            "default_acl": None,
        },
    }
AWS_S3_SIGNATURE_VERSION = "s3v4"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# ----------------------------------------------------------------------------- auth
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=JWT_ACCESS_TOKEN_EXPIRE_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=JWT_REFRESH_TOKEN_EXPIRE_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": JWT_ALGORITHM,
    "SIGNING_KEY": JWT_SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    "LEEWAY": 5,
}
# The cookie names existing clients send.
JWT_ACCESS_COOKIE = "access_token"
JWT_REFRESH_COOKIE = "refresh_token"
# The refresh cookie goes to every path because pages refresh silently on navigation
# (accounts.middleware); HttpOnly + SameSite=Lax keep it from scripts and cross-site posts.
JWT_REFRESH_COOKIE_PATH = "/"
JWT_COOKIE_SECURE = not DEBUG
JWT_COOKIE_SAMESITE = "Lax"

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = False  # the pages' JS reads it to send X-CSRFToken
CSRF_FAILURE_VIEW = "sketchsite.errors.csrf_failure"

# ----------------------------------------------------------------------------- CORS / CSRF origins
CORS_ALLOWED_ORIGINS = ALLOWED_ORIGINS
CORS_ALLOW_CREDENTIALS = True
CSRF_TRUSTED_ORIGINS = ALLOWED_ORIGINS

# The site's own origin is trusted for CSRF and WebSockets even when it is not listed.
SITE_ORIGIN = csp.origin_of(BASE_URL)
if SITE_ORIGIN and SITE_ORIGIN not in CSRF_TRUSTED_ORIGINS:
    CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, SITE_ORIGIN]

# ----------------------------------------------------------------------------- DRF
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTCookieAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["sketchsite.parsers.JSONParser", "rest_framework.parsers.FormParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "sketchsite.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "sketchsite.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "share_ip": get_str(ENV, "THROTTLE_SHARE_IP", "60/min"),
        "login_ip": get_str(ENV, "THROTTLE_LOGIN_IP", "60/min"),
        # Per (client IP, email): THROTTLE_LOGIN_EMAIL is its older name.
        "login_ip_email": get_str(ENV, "THROTTLE_LOGIN_IP_EMAIL", get_str(ENV, "THROTTLE_LOGIN_EMAIL", "10/min")),
        "register_ip": get_str(ENV, "THROTTLE_REGISTER_IP", "30/min"),
        "register_email": get_str(ENV, "THROTTLE_REGISTER_EMAIL", "10/hour"),
        "sketch_create": get_str(ENV, "THROTTLE_SKETCH_CREATE", "120/hour"),
    },
    "NUM_PROXIES": get_int(ENV, "NUM_PROXIES", 0, minimum=0),  # 0: REMOTE_ADDR, never a client-sent X-Forwarded-For
}
# JSON bodies of this API are tiny; a huge one is refused (413) before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

from . import api_docs as _api_docs  # noqa: E402

SPECTACULAR_SETTINGS = {
    "TITLE": f"{APP_NAME} API",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,  # request schemas say what is required (minLength of blank-refused fields)
    # Upload and Sketch both have a "status" choice set: name them (drf_spectacular.W001 otherwise).
    "ENUM_NAME_OVERRIDES": {
        "UploadStatusEnum": "sketches.models.Upload.Status",
        "SketchStatusEnum": "sketches.models.Sketch.Status",
    },
    # The prose (auth, upload flow, error codes, the WebSocket's messages) and hooks: sketchsite/api_docs.py.
    "DESCRIPTION": _api_docs.DESCRIPTION,
    "TAGS": _api_docs.TAGS,
    "PREPROCESSING_HOOKS": ["sketchsite.api_docs.preprocess"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "sketchsite.api_docs.postprocess"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No deep links: Swagger UI puts them as links inside each operation's toggle button (nested controls).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False, "displayRequestDuration": True, "tryItOutEnabled": False},
}

# ----------------------------------------------------------------------------- i18n
LANGUAGE_CODE = "en-us"
# Dates read the same everywhere (pages, admin lists, JS): sketchsite/formats/en/formats.py.
FORMAT_MODULE_PATH = ["sketchsite.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ============================================================================= production hardening
# Logging, security headers, CSP, probes, metrics and the worker's shutdown. Each value can be overridden from the environment; the defaults are the
# safe ones whenever DEBUG is off. `manage.py check --deploy` is clean with a production
# environment (tests/production/test_settings.py runs it).
try:
    LOG_LEVEL = get_str(ENV, "LOG_LEVEL", "INFO").upper()
    LOG_FORMAT = get_str(ENV, "LOG_FORMAT", "text" if DEBUG else "json").lower()
    # On by default when the site is served over HTTPS (BASE_URL): a local http:// run stays usable.
    SECURE_SSL_REDIRECT = get_bool(ENV, "SECURE_SSL_REDIRECT", not DEBUG and BASE_URL.startswith("https://"))
    TRUST_X_FORWARDED_PROTO = get_bool(ENV, "TRUST_X_FORWARDED_PROTO", True)
    SECURE_HSTS_SECONDS = get_int(ENV, "SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = get_bool(ENV, "SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = get_bool(ENV, "SECURE_HSTS_PRELOAD", False)
    csp_report_only = get_bool(ENV, "CSP_REPORT_ONLY", False)
    CSP_EXTRA_ORIGINS = [o.rstrip("/") for o in get_list(ENV, "CSP_EXTRA_ORIGINS", [])]
    METRICS_TOKEN = get_str(ENV, "METRICS_TOKEN", "")
    HEALTH_QUEUE_STALL_AFTER = get_int(ENV, "HEALTH_QUEUE_STALL_AFTER", 60, minimum=1)
    WORKER_SHUTDOWN_GRACE = get_int(ENV, "WORKER_SHUTDOWN_GRACE", 8, minimum=0)
    # 0: none. The entry point sets it to $PORT for a worker deployed as a Cloud Run service.
    WORKER_HEALTH_PORT = get_int(ENV, "WORKER_HEALTH_PORT", 0, minimum=0)
except SettingError as exc:
    raise ImproperlyConfigured(str(exc)) from None

if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
keys.check_metrics_token(METRICS_TOKEN, debug=DEBUG)

# ----------------------------------------------------------------------------- logging
# JSON lines (Cloud Logging reads `severity` and `message`) unless DEBUG; every line carries the
# request id (the web request's, or inside a job the id of the request that created the sketch)
# and passes the redaction filter: no token, cookie, password or query string is ever written.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "sketchsite.logging.RequestContextFilter"},
        "redact": {"()": "sketchsite.logging.RedactSecretsFilter"},
        "escape": {"()": "sketchsite.logging.EscapeControlsFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "sketchsite.logging.JsonFormatter", "fmt": "%(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context", "redact", "escape"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"level": "WARNING"},
        # daphne runs with -v 0: its access log would print query strings (?token=).
        "daphne": {"level": "WARNING"},
    },
}

# Static files: whitenoise compresses them at build time (collectstatic); source maps are only
# ever fetched by developer tools, and compressing the API docs' big maps doubled the build time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (
    "jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br", "swf", "flv",
    "woff", "woff2", "3gp", "3gpp", "asf", "avi", "m4v", "mov", "mp4", "mpeg", "mpg", "webm", "wmv", "map",
)  # fmt: skip

# ----------------------------------------------------------------------------- security headers
# Cloud Run (and most proxies) terminate TLS and say so in X-Forwarded-Proto; the platform
# overwrites whatever a client sent. Turn it off when daphne faces the internet directly.
if TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The probes come over plain HTTP from the platform itself (and are answered before this anyway).
SECURE_REDIRECT_EXEMPT = [r"^health(/.*)?$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # presigned URLs and page paths never leak to other sites
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# security.W021: HSTS preload is opt-in (SECURE_HSTS_PRELOAD=true) because submitting a domain
# to the browsers' preload list is a decision of the domain's owner, hard to undo, and covers
# every subdomain; *.run.app is already preloaded as part of the .app TLD.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# ----------------------------------------------------------------------------- content security policy
# django-csp sends it (sketchsite/csp.py builds it); CSP_REPORT_ONLY=true only reports what it would block.
STORAGE_ORIGINS = csp.storage_origins(bucket=AWS_BUCKET_NAME, region=AWS_REGION, endpoint_url=AWS_S3_ENDPOINT_URL)
CSP_DIRECTIVES = csp.directives(site_origin=SITE_ORIGIN, storage=STORAGE_ORIGINS, extra=CSP_EXTRA_ORIGINS)
if csp_report_only:  # not a setting of its own: django-csp refuses its 3.x name
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": CSP_DIRECTIVES}
    CONTENT_SECURITY_POLICY = None
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": CSP_DIRECTIVES}
