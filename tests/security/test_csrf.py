"""CSRF on every unsafe route that a browser's cookies could authorise.

The API views are csrf_exempt for Django's middleware (DRF does that), so our cookie
authentication must check CSRF itself. The URLconf is enumerated: a new unsafe API route is
tested automatically, and a new csrf_exempt route that nobody classified fails the suite.
"""

import re
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.tokens import issue_pair

from .conftest import assert_json_error, bearer_client, cookie_client, csrf_header, error_code

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")
# Anyone may call these; they do not act on the identity in the cookies (see the login-CSRF tests below).
PUBLIC_API = {"api-register", "api-login"}
# csrf_exempt and not a DRF view: authorised by something other than cookies.
EXEMPT_NON_API = {"api-local-upload": "authorised by the signed upload policy in the form, like S3's presigned POST"}


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _sample_path(route: str, values: dict) -> str:
    """A concrete path for a route (``path()`` converters or ``re_path`` groups)."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "x"), route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values.get(m.group(1), "x"), path)
    path = path.replace("^", "").replace("$", "").replace("/?", "")
    return "/" + path


def exempt_routes():
    """Every csrf_exempt view in the URLconf: (name, route, DRF class or None)."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        callback = pattern.callback
        if getattr(callback, "csrf_exempt", False):
            found.append((pattern.name, route, getattr(callback, "cls", None)))
    return found


def cookie_api_routes():
    """(name, method, route) of every unsafe method of a DRF view that authenticates by cookie."""
    result = []
    for name, route, cls in exempt_routes():
        if cls is None or name in PUBLIC_API:
            continue
        for method in UNSAFE:
            if hasattr(cls, method):
                result.append((name, method, route))
    return result


COOKIE_API_ROUTES = cookie_api_routes()
IDS = [f"{method.upper()} {name}" for name, method, _ in COOKIE_API_ROUTES]


def test_enumeration_found_the_known_routes():
    found = {(name, method) for name, method, _ in COOKIE_API_ROUTES}
    expected = {
        ("api-refresh", "post"),
        ("api-logout", "post"),
        ("api-logout-all", "post"),
        ("api-me", "patch"),
        ("api-password", "post"),
        ("api-presign", "post"),
        ("api-confirm", "post"),
        ("api-sketch-create", "post"),
        ("api-sketch-detail", "delete"),
    }
    assert expected <= found, expected - found


def test_every_csrf_exempt_route_is_classified():
    for name, route, cls in exempt_routes():
        if cls is not None:
            continue  # DRF views: covered by the parametrized tests below
        assert name in EXEMPT_NON_API, f"{route} ({name}) is csrf_exempt: say why it is safe and test it"


@pytest.fixture
def target(user, owned):
    _, sketch = owned(user)
    values = {"sketch_id": str(sketch.pk), "task_id": sketch.task_id, "key": sketch.result_key}
    return lambda route: _sample_path(route, values)


def _send(client, method, path, **extra):
    return getattr(client, method)(path, {}, format="json", **extra)


@pytest.mark.parametrize(("name", "method", "route"), COOKIE_API_ROUTES, ids=IDS)
def test_cookie_auth_without_csrf_token_is_403(user, target, name, method, route):
    client = cookie_client(user)
    response = _send(client, method, target(route))
    assert_json_error(response, 403, "csrf_failed")
    # A wrong token is no better than none.
    response = _send(client, method, target(route), HTTP_X_CSRFTOKEN="A" * 64)
    assert_json_error(response, 403, "csrf_failed")


@pytest.mark.parametrize(("name", "method", "route"), COOKIE_API_ROUTES, ids=IDS)
def test_cookie_auth_with_csrf_token_passes_the_check(user, target, name, method, route):
    """The control: the 403 above is the CSRF check, not something else about the route."""
    client = cookie_client(user)
    response = _send(client, method, target(route), **csrf_header(client))
    assert response.status_code != 403 and error_code(response) != "csrf_failed", response.content


@pytest.mark.parametrize(("name", "method", "route"), COOKIE_API_ROUTES, ids=IDS)
def test_bearer_is_not_csrf_checked(user, target, name, method, route):
    response = _send(bearer_client(user), method, target(route))
    assert error_code(response) != "csrf_failed", response.content
    assert response.status_code != 403, response.content


def test_refresh_by_cookie_without_csrf_does_not_rotate(user):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    client = cookie_client(user)
    assert_json_error(client.post("/api/auth/refresh"), 403, "csrf_failed")
    assert_json_error(client.post("/api/auth/logout"), 403, "csrf_failed")
    assert not BlacklistedToken.objects.exists()  # the cookie's refresh token is still good


def test_cross_site_delete_leaves_the_sketch(user, owned):
    from sketches.models import Sketch

    _, sketch = owned(user)
    client = cookie_client(user)
    response = client.delete(f"/api/sketch/{sketch.pk}", HTTP_ORIGIN="https://evil.example")
    assert_json_error(response, 403, "csrf_failed")
    assert Sketch.objects.filter(pk=sketch.pk).exists()


def test_local_upload_ignores_cookies(user):
    """csrf_exempt because it trusts only the signed policy: the victim's cookies buy nothing."""
    client = cookie_client(user)
    response = client.post("/api/upload/local", {"key": f"uploads/{user.pk}/x.png", "Content-Type": "image/png"})
    assert response.status_code == 403
    assert b"AccessDenied" in response.content


# ----------------------------------------------------------------------------- login CSRF
@pytest.mark.parametrize("origin", ["https://evil.example", "null"])  # null: a sandboxed frame or a data: URL
@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/register"])
def test_cross_site_form_cannot_log_the_browser_in(make_user, path, origin):
    """An attacker's page auto-submits a form with *the attacker's* credentials: the victim's browser
    must not end up logged in as the attacker (everything they upload would land in the attacker's account)."""
    attacker = make_user(password="attacker-Pass-8812")
    email = attacker.email if path.endswith("login") else f"fresh-{abs(hash(origin))}@example.com"
    client = APIClient(enforce_csrf_checks=True)
    response = client.generic(  # what an auto-submitted HTML form sends
        "POST",
        path,
        urlencode({"email": email, "password": "attacker-Pass-8812"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_ORIGIN=origin,
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert response.status_code in (400, 403, 415), response.status_code
    assert "access_token" not in response.cookies


def test_same_site_form_login_still_works(user):
    response = APIClient(enforce_csrf_checks=True).generic(
        "POST",
        "/api/auth/login",
        urlencode({"email": user.email, "password": user.raw_password}),
        content_type="application/x-www-form-urlencoded",
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 200, response.content


def test_json_login_still_works_without_csrf_token(user):
    """Non-browser clients log in with JSON (a cross-site form cannot send it without a CORS preflight)."""
    response = APIClient(enforce_csrf_checks=True).post(
        "/api/auth/login", {"email": user.email, "password": user.raw_password}, format="json"
    )
    assert response.status_code == 200


# ----------------------------------------------------------------------------- pages
def _page_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        pair = issue_pair(user)
        client.cookies["access_token"] = pair.access
        client.cookies["refresh_token"] = pair.refresh
    return client


def test_login_form_without_csrf_token_is_403(user):
    response = _page_client().post("/login/", {"email": user.email, "password": user.raw_password})
    assert response.status_code == 403
    assert "access_token" not in response.cookies


def test_register_form_without_csrf_token_is_403(db):
    from accounts.models import User

    response = _page_client().post("/register/", {"email": "csrf-new@example.com", "password": "violet-anchor-Plum-7391"})
    assert response.status_code == 403
    assert not User.objects.filter(email="csrf-new@example.com").exists()


def test_logout_form_without_csrf_token_is_403(user):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    response = _page_client(user).post("/logout/")
    assert response.status_code == 403
    assert not BlacklistedToken.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"action": "profile", "display_name": "pwned"},
        {"action": "password", "current_password": "x", "new_password": "attacker-Pass-8812"},
        {"action": "logout_all"},
    ],
    ids=lambda d: d["action"],
)
def test_account_form_without_csrf_token_is_403(user, data):
    response = _page_client(user).post("/account/", data)
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.display_name == "" and user.check_password(user.raw_password)


def test_admin_post_without_csrf_token_is_403(admin_user):
    from accounts.models import User

    client = _page_client(admin_user)
    assert client.get("/admin/").status_code == 200  # the cookie logs the admin in
    response = client.post("/admin/accounts/user/add/", {"email": "csrf-admin@example.com", "password1": "x", "password2": "x"})
    assert response.status_code == 403
    assert not User.objects.filter(email="csrf-admin@example.com").exists()


def test_csrf_failure_on_a_page_is_html_and_on_the_api_json(user):
    page = _page_client().post("/login/", {"email": user.email, "password": "x"})
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")
    api = cookie_client(user).post("/api/upload/confirm", {}, format="json")
    assert_json_error(api, 403, "csrf_failed")


# ----------------------------------------------------------------------------- the token rotates at login
PLANTED = "PlantedByAnAttacker0123456789abc"  # 32 characters: what a sibling subdomain could set


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/register"])
def test_a_planted_csrf_token_stops_working_at_login(make_user, path):
    """The attack: a csrftoken set before the victim logs in kept working after it, so the attacker
    who planted it could forge the victim's unsafe requests."""
    victim = make_user()
    client = APIClient(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = PLANTED
    body = {"email": victim.email, "password": victim.raw_password}
    if path.endswith("register"):
        body = {"email": f"new-{victim.email}", "password": victim.raw_password}
    response = client.post(path, body, format="json")
    assert response.status_code in (200, 201), response.content
    fresh = response.cookies["csrftoken"].value
    assert fresh and fresh != PLANTED
    forged = client.post("/api/auth/logout-all", HTTP_X_CSRFTOKEN=PLANTED)
    assert_json_error(forged, 403, "csrf_failed")
    assert client.post("/api/auth/logout-all", HTTP_X_CSRFTOKEN=fresh).status_code == 204


def test_a_planted_csrf_token_stops_working_at_the_login_page(user):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = PLANTED
    data = {"email": user.email, "password": user.raw_password, "csrfmiddlewaretoken": PLANTED}
    response = client.post("/login/", data)
    assert response.status_code == 302, response.content[:300]
    assert response.cookies["csrftoken"].value not in ("", PLANTED)
    assert client.post("/logout/", {"csrfmiddlewaretoken": PLANTED}).status_code == 403
    fresh = client.cookies["csrftoken"].value
    assert client.post("/logout/", {"csrfmiddlewaretoken": fresh}).status_code == 302
