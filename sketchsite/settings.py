"""Settings of the sketch service: one module, every value from the environment.

The names are the original FastAPI service's, so its ``.env`` files keep working. With none of
DATABASE_URL, REDIS_URL or AWS_BUCKET_NAME set, everything falls back to the embedded default:
SQLite and media under ``var/``, the in-memory channel layer and an in-process worker.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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
        t.lower() for t in get_list(ENV, "ALLOWED_FILE_TYPES", ["image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"])
    ]
    MAX_CONCURRENT_TASKS = get_int(ENV, "MAX_CONCURRENT_TASKS", 5, minimum=1)
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
    ALLOWED_HOSTS = get_list(ENV, "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
except SettingError as exc:
    raise ImproperlyConfigured(str(exc)) from None

if JWT_ALGORITHM not in {"HS256", "HS384", "HS512"}:
    raise ImproperlyConfigured(f"JWT_ALGORITHM must be HS256, HS384 or HS512, not {JWT_ALGORITHM!r}")

# ----------------------------------------------------------------------------- secrets
# Values that appeared in the original's examples or are otherwise guessable.
INSECURE_SECRETS = {
    "",
    "changeme",
    "change-me",
    "secret",
    "your-secret-key",
    "your-secret-key-here",
    "your-secret-key-change-in-production",
    "dev-insecure-secret-key-do-not-use-in-production",
}
MIN_SECRET_LENGTH = 32
_DEV_SECRET = "dev-insecure-secret-key-do-not-use-in-production"


def _insecure(secret: str) -> bool:
    return secret.lower() in INSECURE_SECRETS or len(secret) < MIN_SECRET_LENGTH or "insecure" in secret.lower()


if not DEBUG:
    for _name, _value in (("DJANGO_SECRET_KEY", SECRET_KEY), ("JWT_SECRET_KEY", JWT_SECRET_KEY or SECRET_KEY)):
        if _insecure(_value):
            raise ImproperlyConfigured(
                f"{_name} is missing, a known default or shorter than {MIN_SECRET_LENGTH} characters. "
                "Set it to a long random value (python -c 'import secrets; print(secrets.token_urlsafe(50))') "
                "or set DEBUG=true for local development."
            )
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS=* is refused with DEBUG off: list the host names this service answers to.")

SECRET_KEY = SECRET_KEY or _DEV_SECRET
JWT_SECRET_KEY = JWT_SECRET_KEY or SECRET_KEY

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
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "channels",
    "django_rq",
    "accounts",
    "sketches",
]

MIDDLEWARE = [
    "sketchsite.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
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
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    except Exception as exc:  # dj-database-url raises bare ValueError/KeyError on unknown schemes
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from None
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
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "expiry": 30},
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
RQ = {"COMMIT_MODE": "on_db_commit"}

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
# Our own names for the cookies (the original's).
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


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# The site's own origin is trusted for CSRF and WebSockets even when it is not listed.
SITE_ORIGIN = _origin_of(BASE_URL)
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
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.FormParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "sketchsite.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "sketchsite.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": get_str(ENV, "THROTTLE_LOGIN_IP", "60/min"),
        "login_email": get_str(ENV, "THROTTLE_LOGIN_EMAIL", "10/min"),
        "register_ip": get_str(ENV, "THROTTLE_REGISTER_IP", "30/min"),
    },
    "NUM_PROXIES": get_int(ENV, "NUM_PROXIES", 0, minimum=0) or None,
}
# JSON bodies of this API are tiny; a huge one is refused (413) before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

SPECTACULAR_SETTINGS = {
    "TITLE": f"{APP_NAME} API",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
}

# ----------------------------------------------------------------------------- i18n
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ----------------------------------------------------------------------------- logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "sketchsite.logging.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": get_str(ENV, "LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"level": "WARNING"},
        "daphne.server": {"level": "WARNING"},
    },
}

if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
