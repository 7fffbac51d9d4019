"""The OpenAPI schema: generated without warnings, valid, and covering the design's whole API."""

import re
import subprocess
import sys

import pytest
import yaml

from tests.support.processes import ROOT, base_env

# Every HTTP path of the design (docs: DESIGN.md, "API"), with its methods.
DESIGN = {
    "/api/auth/register": {"post"},
    "/api/auth/login": {"post"},
    "/api/auth/refresh": {"post"},
    "/api/auth/logout": {"post"},
    "/api/auth/me": {"get"},
    "/api/upload/presigned-url": {"post"},
    "/api/upload/confirm": {"post"},
    "/api/upload/download-url/{}": {"get"},
    "/api/sketch/create": {"post"},
    "/api/sketch/": {"get"},
    "/api/sketch/{}": {"get", "delete"},
    "/api/sketch/task/{}": {"get"},
    "/api/sketch/styles/available": {"get"},
    "/health": {"get"},
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "schema.yaml"
    env = base_env(DJANGO_SETTINGS_MODULE="tests.settings")
    done = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"schema generation failed or warned:\n{done.stdout}\n{done.stderr}"
    noise = [line for line in done.stderr.splitlines() if re.search(r"warning|error", line, re.I) and "UP038" not in line]
    assert not noise, "\n".join(noise)
    return yaml.safe_load(out.read_text())


def test_every_design_path_is_documented(schema):
    paths = {
        re.sub(r"\{[^}]+\}", "{}", path): {m for m in item if m in {"get", "post", "put", "patch", "delete"}}
        for path, item in schema["paths"].items()
    }
    for path, methods in DESIGN.items():
        assert path in paths, f"{path} is missing from the schema: {sorted(paths)}"
        assert methods <= paths[path], f"{path}: {methods - paths[path]} not documented"


def test_errors_have_the_error_body_and_auth_errors_are_listed(schema):
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"detail", "code"}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if str(status)[0] in "45":
                    assert response.get("content", {}).get("application/json"), f"{method} {path} {status} has no error body"
            if path.startswith(("/api/upload", "/api/sketch/create")):
                assert "401" in operation["responses"], f"{method} {path} does not list 401"
    create = schema["paths"]["/api/sketch/create"]["post"]["responses"]
    assert {"202", "400", "401", "403", "404", "429"} <= set(create)
    assert "too_many_tasks" in create["429"]["description"]


def test_description_covers_auth_uploads_errors_and_the_websocket(schema):
    text = schema["info"]["description"]
    for needle in [
        "X-CSRFToken",
        "/api/auth/refresh",
        "presigned",
        "multipart/form-data",
        "file_too_large",
        "unsupported_type",
        "too_many_tasks",
        "WS /ws",
        "sketch.snapshot",
        "sketch.update",
        '{"type": "ping"}',
        "4401",
        "?token=",
    ]:
        assert needle in text, needle


def test_swagger_ui_is_served_from_this_site(client, settings):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "<script>" not in html and "<style>" not in html  # nothing inline: the CSP holds
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").status_code == 200
