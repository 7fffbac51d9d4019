"""The API's defaults, as every endpoint inherits them: 401 (not 403) without credentials, CSRF for cookies."""

import pytest
from rest_framework.test import APIClient

from accounts.tokens import issue_pair

from .conftest import assert_error_shape

pytestmark = pytest.mark.django_db

PROTECTED = [
    ("get", "/api/auth/me"),
    ("post", "/api/auth/logout-all"),
    ("post", "/api/auth/password"),
    ("get", "/api/sketch/"),
    ("get", "/api/sketch/1"),
    ("delete", "/api/sketch/1"),
    ("post", "/api/sketch/create"),
    ("get", "/api/sketch/task/abc"),
    ("post", "/api/upload/presigned-url"),
    ("post", "/api/upload/confirm"),
    ("get", "/api/upload/download-url/uploads/1/x.png"),
]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_unauthenticated_is_401_with_www_authenticate(method, url):
    response = getattr(APIClient(), method)(url, {}, format="json")
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(("method", "url"), [(m, u) for m, u in PROTECTED if m != "get"])
def test_cookie_auth_without_csrf_is_403_everywhere(user, method, url):
    client = APIClient(enforce_csrf_checks=True)
    client.cookies["access_token"] = issue_pair(user).access
    response = getattr(client, method)(url, {}, format="json")
    assert_error_shape(response, 403, "csrf_failed")


def test_public_styles_ignore_a_stale_cookie():
    client = APIClient()
    client.cookies["access_token"] = "expired-or-garbage"
    response = client.get("/api/sketch/styles/available")
    assert response.status_code == 200
    assert {s["id"] for s in response.json()["styles"]} >= {"pencil", "charcoal", "watercolor", "ink", "pastel", "oil", "acrylic"}
