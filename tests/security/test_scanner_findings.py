"""What two scanners (wapiti, sqlmap) turned into 500s, replayed: a stale cookie on the public auth
API asked for as HTML, and a bare word as the login page's ``next``.

The first half goes through the whole Django stack in this process; the second sends the same
requests to a real daphne (the embedded default) and reads its log for any 5xx.
"""

from urllib.parse import urlencode

import pytest
import requests
from django.test import Client
from rest_framework.test import APIClient

from accounts.tokens import issue_pair
from tests.accounts.conftest import make_jwt

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")]

WRONG_LOGIN = {"email": "nobody@example.com", "password": "not-the-password-1"}
HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

# (method, path, body, status when the cookie is ignored)
PUBLIC_AUTH = [
    ("post", "/api/auth/login", WRONG_LOGIN, 401),
    ("post", "/api/auth/login?format=api", WRONG_LOGIN, 401),
    ("post", "/api/auth/register", {"email": "not-an-email", "password": "x"}, 400),
    ("post", "/api/auth/refresh", {}, 401),  # no refresh token anywhere: log in again
    ("get", "/api/auth/login", None, 405),
    ("get", "/api/auth/logout", None, 405),
]


def as_form(body: dict | None) -> dict:
    """What a browser form (and a scanner) sends: url-encoded fields."""
    return {} if body is None else {"data": urlencode(body), "content_type": "application/x-www-form-urlencoded"}


def browser(cookie: str | None) -> APIClient:
    # A 500 must come back as a response here, not as an exception, so that its status is checked.
    client = APIClient(enforce_csrf_checks=True, raise_request_exception=False)
    if cookie is not None:
        client.cookies["access_token"] = cookie
    return client


def pages(cookie: str | None = None) -> Client:
    """The login page's client (its CSRF check has tests of its own in tests/accounts)."""
    client = Client(raise_request_exception=False)
    if cookie is not None:
        client.cookies["access_token"] = cookie
    return client


@pytest.fixture(params=["expired", "garbage", "valid_without_csrf"])
def stale_cookie(request, user):
    return {
        "expired": make_jwt(user.pk, exp_delta=-60),
        "garbage": "not.a.jwt",
        "valid_without_csrf": issue_pair(user).access,
    }[request.param]


@pytest.mark.parametrize(("method", "path", "body", "status"), PUBLIC_AUTH)
def test_public_auth_api_as_html_ignores_a_stale_cookie(stale_cookie, method, path, body, status):
    response = getattr(browser(stale_cookie), method)(path, **as_form(body), **HTML)
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]


@pytest.mark.parametrize(("method", "path", "body", "status"), PUBLIC_AUTH)
def test_public_auth_api_as_json_gives_the_same_status(stale_cookie, method, path, body, status):
    path = path.replace("format=api", "format=json")
    response = getattr(browser(stale_cookie), method)(path, body, format="json" if body is not None else None)
    assert response.status_code == status, response.content[:300]
    assert response.json()["code"]


def test_login_as_html_with_an_expired_cookie_logs_in(user):
    response = browser(make_jwt(user.pk, exp_delta=-60)).post(
        "/api/auth/login", **as_form({"email": user.email, "password": user.raw_password}), **HTML
    )
    assert response.status_code == 200, response.content[:300]
    assert response.cookies["access_token"].value  # a fresh cookie replaces the stale one


def test_authenticated_api_still_refuses_the_expired_cookie_as_html(user):
    response = browser(make_jwt(user.pk, exp_delta=-60)).get("/api/auth/me", **HTML)
    assert response.status_code == 401


@pytest.mark.parametrize("target", ["id", "login", "account", "api-me", "admin:index", "sketches"])
def test_login_post_with_a_view_name_as_next_goes_home(user, target):
    response = pages().post("/login/", {"email": user.email, "password": user.raw_password, "next": target})
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == "/"
    assert response.cookies["access_token"].value


@pytest.mark.parametrize("target", ["id", "login", "account"])
def test_logged_in_visit_with_a_view_name_as_next_goes_home(user, target):
    response = pages(issue_pair(user).access).get(f"/login/?next={target}")
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == "/"


@pytest.mark.parametrize("target", ["/account/", "http://testserver/account/"])
def test_a_url_of_this_site_is_still_followed(user, target):
    response = pages().post("/login/", {"email": user.email, "password": user.raw_password, "next": target})
    assert response.status_code == 302
    assert response["Location"] == target


# ----------------------------------------------------------------------------- a real server
@pytest.fixture(scope="module")
def embedded(stack_env, tmp_path_factory):
    from tests.support.stack import EmbeddedStack

    stack = EmbeddedStack(
        stack_env, tmp_path_factory.mktemp("scanner-var"), tmp_path_factory.mktemp("scanner-logs"), env={"LOG_FORMAT": "json"}
    ).start()
    yield stack
    stack.stop()


@pytest.mark.stack
def test_the_scanner_requests_get_no_500_from_daphne(embedded):
    from tests.support.stack import PASSWORD

    watch = embedded.watch_web()
    base = embedded.url
    signup = requests.post(f"{base}/api/auth/register", json={"email": "scanned@example.com", "password": PASSWORD}, timeout=30)
    assert signup.status_code == 201, signup.text
    valid = signup.cookies["access_token"]
    expired = make_jwt(signup.json()["user"]["id"], exp_delta=-60, key=embedded_jwt_key(embedded))
    accept = {"Accept": HTML["HTTP_ACCEPT"]}
    seen = []
    for cookie in (expired, "not.a.jwt", valid):
        for method, path, body, status in PUBLIC_AUTH:
            response = requests.request(
                method, f"{base}{path}", data=body, headers=accept, cookies={"access_token": cookie}, timeout=30
            )
            seen.append((method, path, response.status_code))
            assert response.status_code == status, (method, path, cookie[:12], response.status_code)
    for target in ("id", "login"):
        response = requests.get(
            f"{base}/login/?next={target}", cookies={"access_token": valid}, allow_redirects=False, timeout=30
        )
        assert (response.status_code, response.headers["Location"]) == (302, "/"), target
        page = requests.Session()
        form = page.get(f"{base}/login/", timeout=30)
        assert form.status_code == 200
        response = page.post(
            f"{base}/login/",
            data={"email": "scanned@example.com", "password": PASSWORD, "next": target},
            headers={"X-CSRFToken": page.cookies["csrftoken"], "Referer": f"{base}/login/"},
            allow_redirects=False,
            timeout=30,
        )
        assert (response.status_code, response.headers["Location"]) == (302, "/"), (target, response.text[:300])
    assert len(seen) == 3 * len(PUBLIC_AUTH)
    assert watch.server_errors() == []


def embedded_jwt_key(stack) -> str:
    return stack.env.get("JWT_SECRET_KEY") or stack.env["DJANGO_SECRET_KEY"]
