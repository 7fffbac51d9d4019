"""Hardened settings: check --deploy, refusals at start-up, security headers, cookies, CSP."""

import json
import re

import pytest
from django.conf import settings
from django.test import override_settings

from .conftest import long_secret, production_env, run_manage, settings_value


# ----------------------------------------------------------------------------- check --deploy
def test_check_deploy_is_clean_in_a_production_environment(var_dir):
    env = production_env(VAR_DIR=str(var_dir))
    result = run_manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr[-3000:]
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_complains_when_hardening_is_switched_off(var_dir):
    """The clean result above is earned by the settings, not by silencing the checks."""
    env = production_env(VAR_DIR=str(var_dir), SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0")
    result = run_manage(env, "check", "--deploy")
    assert "security.W004" in result.stderr + result.stdout  # HSTS
    assert "security.W008" in result.stderr + result.stdout  # HTTPS redirect


# ----------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": None, "JWT_SECRET_KEY": None, "DATABASE_URL": "postgresql://db.example/s"}, "DJANGO_SECRET_KEY"),
        ({"JWT_SECRET_KEY": long_secret("django")}, "JWT_SECRET_KEY must differ"),
        ({"DJANGO_SECRET_KEY": "changeme"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short-but-random-x9"}, "DJANGO_SECRET_KEY"),
        ({"JWT_SECRET_KEY": "your-secret-key-change-in-production"}, "JWT_SECRET_KEY"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS=*"),
        ({"METRICS_TOKEN": "metrics"}, "METRICS_TOKEN"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ],
)
def test_production_refuses_to_start_on_insecure_settings(var_dir, overrides, message):
    result = settings_value(production_env(VAR_DIR=str(var_dir), **overrides), "settings.DEBUG")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr[-2000:]


def test_debug_uses_text_logs_and_no_https_redirect(var_dir):
    env = production_env(VAR_DIR=str(var_dir), DEBUG="true", DJANGO_SECRET_KEY=None, JWT_SECRET_KEY=None)
    result = settings_value(
        env, '[settings.LOGGING["handlers"]["console"]["formatter"], settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS]'
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == ["text", False, 0]


def test_https_redirect_follows_the_sites_scheme(var_dir):
    expression = "[settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, settings.SECURE_PROXY_SSL_HEADER]"
    https = json.loads(settings_value(production_env(VAR_DIR=str(var_dir)), expression).stdout)
    assert https == [True, 31536000, ["HTTP_X_FORWARDED_PROTO", "https"]]
    local = settings_value(production_env(VAR_DIR=str(var_dir), BASE_URL="http://127.0.0.1:8000"), expression)
    assert json.loads(local.stdout)[0] is False, "a plain-HTTP site (a local run) is not redirected"


def test_csp_allows_the_storage_endpoint_and_the_socket(var_dir):
    env = production_env(
        VAR_DIR=str(var_dir),
        AWS_BUCKET_NAME="sketches",
        AWS_S3_ENDPOINT_URL="https://storage.googleapis.com",
        AWS_ACCESS_KEY_ID="GOOG1EXAMPLE",
        AWS_SECRET_ACCESS_KEY="example-secret",
    )
    result = settings_value(env, "settings.CSP_DIRECTIVES")
    assert result.returncode == 0, result.stderr[-2000:]
    csp = json.loads(result.stdout)
    assert "https://storage.googleapis.com" in csp["connect-src"] and "https://storage.googleapis.com" in csp["img-src"]
    assert "wss://sketch.example.com" in csp["connect-src"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"], "no inline code, no CDN"
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]

    result = settings_value(
        production_env(VAR_DIR=str(var_dir), AWS_BUCKET_NAME="photos", AWS_REGION="eu-west-1"), "settings.CSP_DIRECTIVES"
    )
    csp = json.loads(result.stdout)
    assert (
        "https://photos.s3.amazonaws.com" in csp["connect-src"] and "https://photos.s3.eu-west-1.amazonaws.com" in csp["img-src"]
    )


# ----------------------------------------------------------------------------- headers and cookies
@pytest.mark.django_db
def test_security_headers_on_pages(client):
    response = client.get("/login/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    csp = response["Content-Security-Policy"]
    directives = policy_of(csp)  # django-csp does not promise an order
    assert (directives["script-src"], directives["default-src"]) == ("'self'", "'self'") and "'unsafe-inline'" not in csp


def policy_of(header: str) -> dict[str, str]:
    return dict(part.split(" ", 1) for part in header.split("; "))


def test_the_policy_header_holds_exactly_the_sites_directives(client):
    response = client.get("/api/sketch/styles/available")
    assert response.status_code == 200
    socket = settings.SITE_ORIGIN.replace("http", "ws", 1)
    assert policy_of(response["Content-Security-Policy"]) == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data: blob:",
        "font-src": "'self'",
        "connect-src": f"'self' {socket}",
        "form-action": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
    }
    assert "Content-Security-Policy-Report-Only" not in response


def test_report_only_mode_sends_the_same_policy_without_enforcing_it(client, var_dir):
    result = settings_value(
        production_env(VAR_DIR=str(var_dir), CSP_REPORT_ONLY="true"),
        "[settings.CONTENT_SECURITY_POLICY, settings.CONTENT_SECURITY_POLICY_REPORT_ONLY == {'DIRECTIVES': settings.CSP_DIRECTIVES}]",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [None, True]

    enforced = client.get("/api/sketch/styles/available")["Content-Security-Policy"]
    with override_settings(
        CONTENT_SECURITY_POLICY=None, CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": settings.CSP_DIRECTIVES}
    ):
        response = client.get("/api/sketch/styles/available")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
    assert policy_of(response["Content-Security-Policy-Report-Only"]) == policy_of(enforced)


@pytest.mark.django_db
def test_https_is_detected_behind_the_platform_proxy(client):
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert client.get("/login/").status_code == 301
        assert client.get("/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200


@pytest.mark.django_db
def test_auth_cookies_are_secure_and_http_only(client, user):
    response = client.post(
        "/api/auth/login", {"email": user.email, "password": user.raw_password}, content_type="application/json", secure=True
    )
    assert response.status_code == 200
    for name in ("access_token", "refresh_token"):
        cookie = response.cookies[name]
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax", name
    assert response.cookies["csrftoken"]["secure"]


@pytest.mark.django_db
def test_api_docs_live_under_the_same_strict_policy(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == client.get("/login/")["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html) and "<style" not in html, "start-up script and styles are files"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)


@pytest.mark.django_db
def test_pages_have_no_inline_code_the_policy_would_block(client, user, admin_user):
    """The CSP allows scripts and styles from our static files only: pages must not need more."""
    from accounts.tokens import issue_pair

    pages = {"/": None, "/login/": None, "/register/": None, "/sketches/": user, "/account/": user, "/admin/": admin_user}
    for path, who in pages.items():
        client.cookies.clear()
        if who is not None:
            client.cookies["access_token"] = issue_pair(who).access
        response = client.get(path, follow=True)
        assert response.status_code == 200, (path, response.status_code)
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), f"{path}: inline <script>: {INLINE_SCRIPT.search(html).group(0)}"
        assert not INLINE_HANDLER.search(html), f"{path}: inline event handler: {INLINE_HANDLER.search(html).group(0)}"
        assert not STYLE_ATTRIBUTE.search(html), f"{path}: style attribute: {STYLE_ATTRIBUTE.search(html).group(0)}"
        assert "<style" not in html, f"{path}: inline <style>"
