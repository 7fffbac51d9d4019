"""sketchsite/settings.py read afresh with chosen environments (and once in a real subprocess)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from .settings_loader import load_settings

ROOT = Path(__file__).resolve().parents[2]
STRONG = "k3Jd9-strong-and-long-secret-value-0123456789abcdef"
STRONG_JWT = "another-strong-jwt-secret-value-0123456789-abcdefgh"

JWT_ONLY_ENV = textwrap.dedent(
    f"""\
    # an existing .env with only the JWT key
    DATABASE_URL=postgresql+asyncpg://sketch:s3cret@db.example:5432/sketches
    REDIS_URL=redis://cache.example:6379/0
    JWT_SECRET_KEY={STRONG_JWT}
    JWT_ALGORITHM=HS256
    JWT_ACCESS_TOKEN_EXPIRE_MINUTES=30
    APP_NAME="Image to Sketch API"
    APP_VERSION=2.3.4
    DEBUG=False
    BASE_URL=https://sketch.example
    ALLOWED_ORIGINS=["http://localhost:3000","https://sketch.example"]
    AWS_ACCESS_KEY_ID=AKIAEXAMPLE
    AWS_SECRET_ACCESS_KEY=examplesecret
    AWS_REGION=eu-west-1
    AWS_BUCKET_NAME=sketch-bucket
    AWS_PRESIGNED_URL_EXPIRATION=3600
    TEMP_DIR=/tmp/sketch
    MAX_FILE_SIZE=10485760
    ALLOWED_FILE_TYPES=["image/jpeg","image/png","image/webp"]
    MAX_CONCURRENT_TASKS=3
    TASK_TIMEOUT=120
    """
)


def load(monkeypatch, tmp_path, **env):
    return load_settings(monkeypatch, tmp_path, **env)


def prod(monkeypatch, tmp_path, **env):
    return load(monkeypatch, tmp_path, **{"DEBUG": "false", "DJANGO_SECRET_KEY": STRONG, **env})


# ----------------------------------------------------------------------------- an existing .env
def test_the_originals_env_file_works_unchanged(monkeypatch, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(JWT_ONLY_ENV)
    s = load(monkeypatch, tmp_path, ENV_FILE=str(env_file))
    assert s["DEBUG"] is False
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "sketches",
        "sketch",
        "s3cret",
        "db.example",
        5432,
    )
    assert s["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert [h["address"] for h in s["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"]] == ["redis://cache.example:6379/0"]
    assert s["USE_INPROCESS_WORKER"] is False
    assert s["USE_S3"] is True and s["STORAGES"]["default"]["OPTIONS"]["bucket_name"] == "sketch-bucket"
    assert s["STORAGES"]["default"]["OPTIONS"]["region_name"] == "eu-west-1"
    assert s["APP_NAME"] == "Image to Sketch API" and s["APP_VERSION"] == "2.3.4"
    assert s["SIMPLE_JWT"]["ACCESS_TOKEN_LIFETIME"].total_seconds() == 30 * 60
    assert s["SIMPLE_JWT"]["SIGNING_KEY"] == STRONG_JWT
    assert s["ALLOWED_FILE_TYPES"] == ["image/jpeg", "image/png", "image/webp"]
    assert (s["MAX_FILE_SIZE"], s["MAX_CONCURRENT_TASKS"], s["TASK_TIMEOUT"], s["TEMP_DIR"]) == (10485760, 3, 120, "/tmp/sketch")
    assert s["AWS_PRESIGNED_URL_EXPIRATION"] == 3600
    assert s["CORS_ALLOWED_ORIGINS"] == ["http://localhost:3000", "https://sketch.example"]
    assert s["CSRF_TRUSTED_ORIGINS"] == ["http://localhost:3000", "https://sketch.example"]
    # No ALLOWED_HOSTS in existing .env files: the host of BASE_URL is served, besides the loopback names.
    assert "sketch.example" in s["ALLOWED_HOSTS"] and "localhost" in s["ALLOWED_HOSTS"]
    # Django's own secret is not the JWT secret, even when only the JWT secret is given.
    assert s["SECRET_KEY"] and s["SECRET_KEY"] != STRONG_JWT and len(s["SECRET_KEY"]) >= 32


def test_the_process_environment_wins_over_the_env_file(monkeypatch, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(JWT_ONLY_ENV)
    s = load(monkeypatch, tmp_path, ENV_FILE=str(env_file), APP_NAME="From the environment", REDIS_URL="")
    assert s["APP_NAME"] == "From the environment"
    assert s["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"


def test_comma_separated_lists(monkeypatch, tmp_path):
    s = prod(
        monkeypatch, tmp_path, ALLOWED_ORIGINS="https://a.example/, https://b.example", ALLOWED_FILE_TYPES="IMAGE/JPEG, image/png"
    )
    assert s["CORS_ALLOWED_ORIGINS"] == ["https://a.example", "https://b.example"]
    assert s["ALLOWED_FILE_TYPES"] == ["image/jpeg", "image/png"]


def test_allowed_origins_feed_cors_and_csrf_and_the_site_origin_is_trusted(monkeypatch, tmp_path):
    s = prod(monkeypatch, tmp_path, ALLOWED_ORIGINS='["https://app.example"]', BASE_URL="https://sketch.example/base/")
    assert s["CORS_ALLOWED_ORIGINS"] == ["https://app.example"]
    assert s["CORS_ALLOW_CREDENTIALS"] is True
    assert set(s["CSRF_TRUSTED_ORIGINS"]) == {"https://app.example", "https://sketch.example"}
    assert "corsheaders.middleware.CorsMiddleware" in s["MIDDLEWARE"]
    middleware = s["MIDDLEWARE"]
    assert middleware.index("corsheaders.middleware.CorsMiddleware") < middleware.index(
        "django.middleware.common.CommonMiddleware"
    )


def test_explicit_allowed_hosts_replace_the_default(monkeypatch, tmp_path):
    s = prod(monkeypatch, tmp_path, ALLOWED_HOSTS="only.example", BASE_URL="https://sketch.example")
    assert s["ALLOWED_HOSTS"] == ["only.example"]
    assert prod(monkeypatch, tmp_path, BASE_URL="http://[::1]:8000")["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost", "[::1]"]


def test_ipv6_hosts_in_comma_form(monkeypatch, tmp_path):
    s = prod(monkeypatch, tmp_path, ALLOWED_HOSTS="[::1],localhost")
    assert s["ALLOWED_HOSTS"] == ["[::1]", "localhost"]


# ----------------------------------------------------------------------------- each service falls back on its own
def test_nothing_configured_is_the_embedded_default(monkeypatch, tmp_path):
    s = load(monkeypatch, tmp_path, DEBUG="true")
    db = s["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(db["NAME"]) == tmp_path / "var" / "db.sqlite3"
    assert s["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert s["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert s["USE_INPROCESS_WORKER"] is True
    assert s["USE_S3"] is False
    assert s["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert Path(s["MEDIA_ROOT"]) == tmp_path / "var" / "media"


def test_postgres_without_redis_or_s3(monkeypatch, tmp_path):
    s = prod(monkeypatch, tmp_path, DATABASE_URL="postgres://u:p@db/app")
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert s["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert s["USE_INPROCESS_WORKER"] is True and s["USE_S3"] is False


def test_postgres_connections_come_from_a_pool(monkeypatch, tmp_path):
    db = prod(monkeypatch, tmp_path, DATABASE_URL="postgres://u:p@db/app")["DATABASES"]["default"]
    assert db["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 20, "timeout": 5}
    assert db["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections
    assert db["CONN_HEALTH_CHECKS"] is True  # the pool then checks each connection before lending it

    sized = prod(
        monkeypatch, tmp_path, DATABASE_URL="postgres://u:p@db/app", DATABASE_POOL_MAX_SIZE="5", DATABASE_POOL_TIMEOUT="3"
    )
    assert sized["DATABASES"]["default"]["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 5, "timeout": 3}

    off = prod(monkeypatch, tmp_path, DATABASE_URL="postgres://u:p@db/app", DATABASE_POOL_MAX_SIZE="0")
    assert "pool" not in off["DATABASES"]["default"].get("OPTIONS", {})

    sqlite = prod(monkeypatch, tmp_path)["DATABASES"]["default"]
    assert "pool" not in sqlite.get("OPTIONS", {})


def test_the_worker_borrows_no_pooled_connections():
    """RQ forks a work horse per job: a pool's sockets and threads would be shared across the fork."""
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from django.db import connections
        from sketches.management.commands.sketchworker import _without_connection_pool
        db = connections["default"]
        db.ensure_connection()
        print("web", db.pool is not None, db.connection._pool is not None)
        db.close()
        _without_connection_pool()
        db.ensure_connection()
        print("worker", db.pool is not None, getattr(db.connection, "_pool", None) is not None)
        """
    )
    database = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sketchsite").rsplit("/", 1)[0] + "/postgres"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:2] == ["web True True", "worker False False"]


@pytest.mark.parametrize(
    "name,value", [("DATABASE_POOL_MAX_SIZE", "-1"), ("DATABASE_POOL_MAX_SIZE", "many"), ("DATABASE_POOL_TIMEOUT", "0")]
)
def test_bad_pool_settings_are_refused_by_name(monkeypatch, tmp_path, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        prod(monkeypatch, tmp_path, DATABASE_URL="postgres://u:p@db/app", **{name: value})


def test_redis_without_a_database(monkeypatch, tmp_path):
    s = prod(monkeypatch, tmp_path, REDIS_URL="redis://r.example:6379/2")
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert s["CACHES"]["default"]["LOCATION"] == "redis://r.example:6379/2"
    assert s["RQ_QUEUES"][s["SKETCH_QUEUE_NAME"]]["URL"] == "redis://r.example:6379/2"
    assert s["USE_INPROCESS_WORKER"] is False and s["USE_S3"] is False


def test_s3_alone(monkeypatch, tmp_path):
    s = prod(monkeypatch, tmp_path, AWS_BUCKET_NAME="b", AWS_S3_ENDPOINT_URL="http://127.0.0.1:8333")
    assert s["USE_S3"] is True and s["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s["STORAGES"]["default"]["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:8333"
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["USE_INPROCESS_WORKER"] is True


# ----------------------------------------------------------------------------- production refuses insecure settings
PRODUCTION_DB = "postgresql://sketch@db.example:5432/sketches"


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "changeme",
        "your-secret-key-change-in-production",
        "short-secret",
        "x" * 31,
        "k3Jd9-strong-and-long-secret-value-0123456789abc",  # 48 characters: Django's check --deploy warns (W009)
        "ab" * 30,  # long, but two distinct characters
        "dev-insecure-secret-key-do-not-use-in-production",
    ],
)
def test_production_refuses_a_default_or_short_secret(monkeypatch, tmp_path, secret):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY is missing, a known default or shorter than 50"):
        load(monkeypatch, tmp_path, DEBUG="false", DATABASE_URL=PRODUCTION_DB, DJANGO_SECRET_KEY=secret)


@pytest.mark.parametrize("secret", ["changeme", "short-secret", "dev-insecure-secret-key-do-not-use-in-production"])
def test_a_weak_secret_given_explicitly_is_refused_even_without_services(monkeypatch, tmp_path, secret):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        load(monkeypatch, tmp_path, DEBUG="false", DJANGO_SECRET_KEY=secret)


def test_production_refuses_a_weak_jwt_secret(monkeypatch, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="JWT_SECRET_KEY"):
        prod(monkeypatch, tmp_path, JWT_SECRET_KEY="your-secret-key")


def test_production_refuses_the_same_key_for_django_and_jwt(monkeypatch, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="JWT_SECRET_KEY must differ from DJANGO_SECRET_KEY"):
        prod(monkeypatch, tmp_path, JWT_SECRET_KEY=STRONG)
    # Unset, the JWT key is derived: distinct from Django's, stable across starts.
    first, second = prod(monkeypatch, tmp_path), prod(monkeypatch, tmp_path)
    assert first["JWT_SECRET_KEY"] != STRONG and len(first["JWT_SECRET_KEY"]) >= 50
    assert first["SIMPLE_JWT"]["SIGNING_KEY"] == second["SIMPLE_JWT"]["SIGNING_KEY"] == first["JWT_SECRET_KEY"]


def test_debug_defaults_to_off(monkeypatch, tmp_path):
    s = load(monkeypatch, tmp_path, DJANGO_SECRET_KEY=STRONG)
    assert s["DEBUG"] is False
    with pytest.raises(ImproperlyConfigured, match="DEBUG=true for local development"):
        load(monkeypatch, tmp_path, DATABASE_URL=PRODUCTION_DB)


@pytest.mark.parametrize("debug", ["true", "false"])
def test_the_embedded_default_generates_its_own_key_once(monkeypatch, tmp_path, debug):
    """No key configured and no service: a random key under VAR_DIR, readable by its owner only,
    the same for every later process (daphne, manage.py createsuperuser, manage.py sketch)."""
    first = load(monkeypatch, tmp_path, DEBUG=debug)
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first["SECRET_KEY"]) >= 50 and "insecure" not in first["SECRET_KEY"]
    assert first["JWT_SECRET_KEY"] != first["SECRET_KEY"] and len(first["JWT_SECRET_KEY"]) >= 50
    second = load(monkeypatch, tmp_path, DEBUG=debug)
    assert (second["SECRET_KEY"], second["JWT_SECRET_KEY"]) == (first["SECRET_KEY"], first["JWT_SECRET_KEY"])
    other_install = load(monkeypatch, tmp_path / "elsewhere", DEBUG=debug)
    assert other_install["SECRET_KEY"] != first["SECRET_KEY"]


def test_debug_never_signs_with_a_published_key(monkeypatch, tmp_path):
    public = "dev-insecure-secret-key-do-not-use-in-production"
    s = load(monkeypatch, tmp_path, DEBUG="true", DJANGO_SECRET_KEY=public, JWT_SECRET_KEY="changeme")
    assert s["SECRET_KEY"] == (tmp_path / "var" / "secret_key").read_text().strip()
    assert public not in (s["SECRET_KEY"], s["SIMPLE_JWT"]["SIGNING_KEY"]) and s["SIMPLE_JWT"]["SIGNING_KEY"] != "changeme"


def test_a_key_file_with_loose_permissions_is_tightened(monkeypatch, tmp_path):
    key_file = tmp_path / "var" / "secret_key"
    key_file.parent.mkdir()
    key_file.write_text("Qm9v-a-key-someone-copied-0123456789-abcdefghijklmnopqrstu\n")
    key_file.chmod(0o644)
    s = load(monkeypatch, tmp_path, DEBUG="true")
    assert s["SECRET_KEY"] == "Qm9v-a-key-someone-copied-0123456789-abcdefghijklmnopqrstu"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_production_refuses_any_host(monkeypatch, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        prod(monkeypatch, tmp_path, ALLOWED_HOSTS="*")
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        prod(monkeypatch, tmp_path, ALLOWED_HOSTS='["sketch.example", "*"]')
    assert load(monkeypatch, tmp_path, DEBUG="true", ALLOWED_HOSTS="*")["ALLOWED_HOSTS"] == ["*"]


def test_strong_secrets_start(monkeypatch, tmp_path):
    s = prod(monkeypatch, tmp_path, JWT_SECRET_KEY=STRONG_JWT)
    assert s["SECRET_KEY"] == STRONG and s["SIMPLE_JWT"]["SIGNING_KEY"] == STRONG_JWT
    assert s["SIMPLE_JWT"]["ROTATE_REFRESH_TOKENS"] and s["SIMPLE_JWT"]["BLACKLIST_AFTER_ROTATION"]
    assert s["SIMPLE_JWT"]["ACCESS_TOKEN_LIFETIME"].total_seconds() == 15 * 60


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWT_ALGORITHM": "RS256"}, "JWT_ALGORITHM"),
        ({"JWT_ALGORITHM": "none"}, "JWT_ALGORITHM"),
        ({"DEBUG": "perhaps"}, "DEBUG must be true or false"),
        ({"MAX_FILE_SIZE": "10MB"}, "MAX_FILE_SIZE must be a whole number"),
        ({"TASK_TIMEOUT": "1"}, "TASK_TIMEOUT must be at least"),
        ({"ALLOWED_ORIGINS": '["https://a.example"'}, "ALLOWED_ORIGINS looks like a JSON list"),
        ({"DATABASE_URL": "nosuchdb://x/y"}, "DATABASE_URL"),
    ],
)
def test_unreadable_settings_are_named(monkeypatch, tmp_path, env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        prod(monkeypatch, tmp_path, **env)


def test_jwt_algorithm_is_case_insensitive(monkeypatch, tmp_path):
    assert prod(monkeypatch, tmp_path, JWT_ALGORITHM="hs512")["SIMPLE_JWT"]["ALGORITHM"] == "HS512"


# ----------------------------------------------------------------------------- a real start-up
def _django_setup(env_overrides, tmp_path):
    from tests.support.processes import base_env

    env = base_env(
        DJANGO_SETTINGS_MODULE="sketchsite.settings",
        ENV_FILE=str(tmp_path / "none.env"),
        VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=None,
        REDIS_URL=None,
        AWS_BUCKET_NAME=None,
        JWT_SECRET_KEY=None,
        ALLOWED_HOSTS=None,
        **env_overrides,
    )
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_insecure_production_refuses_to_start_with_a_clear_message(tmp_path):
    result = _django_setup({"DEBUG": "false", "DJANGO_SECRET_KEY": "changeme"}, tmp_path)
    assert result.returncode != 0
    assert "started" not in result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is missing"), result.stderr[
        -2000:
    ]
    assert "secrets.token_urlsafe" in last_line


def test_secure_production_settings_start(tmp_path):
    result = _django_setup({"DEBUG": "false", "DJANGO_SECRET_KEY": STRONG}, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "started" in result.stdout
