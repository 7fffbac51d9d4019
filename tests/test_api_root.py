"""GET /api/: the browsable API's root lists the endpoints; its pages fit a phone and name their language."""

import pytest

pytestmark = pytest.mark.django_db

EXPECTED = {
    "register": "/api/auth/register",
    "login": "/api/auth/login",
    "refresh": "/api/auth/refresh",
    "logout": "/api/auth/logout",
    "logout-all": "/api/auth/logout-all",
    "me": "/api/auth/me",
    "password": "/api/auth/password",
    "upload-presigned-url": "/api/upload/presigned-url",
    "upload-confirm": "/api/upload/confirm",
    "sketches": "/api/sketch",
    "sketch-create": "/api/sketch/create",
    "styles": "/api/sketch/styles/available",
    "schema": "/api/schema/",
    "docs": "/api/docs/",
    "health": "/health",
}


def test_root_lists_every_endpoint_with_its_full_url(client):
    response = client.get("/api/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {label: "http://testserver" + path for label, path in EXPECTED.items()}


def test_every_listed_url_answers_and_none_is_a_404(client):
    links = client.get("/api/", HTTP_ACCEPT="application/json").json()
    for label, url in links.items():
        status = client.get(url.removeprefix("http://testserver")).status_code
        # Signed out: public endpoints answer 200, the others 401 or 405 (POST-only), never 404.
        assert status in {200, 401, 405}, f"{label}: {url} answered {status}"


def test_root_needs_no_login_and_is_not_in_the_contract_schema(client):
    assert client.get("/api/", HTTP_ACCEPT="application/json").status_code == 200
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/" not in schema["paths"]


def test_browsable_pages_have_a_language_a_viewport_and_a_named_format_button(client):
    html = client.get("/api/sketch/styles/available", HTTP_ACCEPT="text/html").content.decode()
    assert '<html lang="en-us">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'aria-label="Formats for the GET request"' in html
    assert "/static/css/browsable-api.css" in html
    assert 'style="' not in html  # no inline styles: the CSP forbids them
