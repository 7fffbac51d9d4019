"""Open redirects through ``?next=`` on the login and register pages (and the admin's login redirect).

Whatever ``next`` says, the browser lands on this site; a same-site path is kept.
"""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from accounts.tokens import issue_pair

pytestmark = pytest.mark.django_db

HOSTILE = [
    "//evil.example",
    "//evil.example/path",
    "https://evil.example",
    "http://evil.example/login/",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https:evil.example",
    "http:/evil.example",
    "https:///evil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    " //evil.example",
    "//evil.example%2f%2e%2e",
    "//testserver@evil.example",
    "https://testserver.evil.example",
    "https://evil.example\\@testserver",
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\x00//evil.example",
]


def as_browser_reads(location: str) -> str:
    """What the WHATWG URL parser does before parsing: strip C0 controls and spaces at the ends,
    drop tabs and newlines anywhere, and read backslashes as slashes (special schemes)."""
    location = location.strip("".join(chr(c) for c in range(0x21)))
    location = location.replace("\t", "").replace("\n", "").replace("\r", "")
    return location.replace("\\", "/")


def assert_on_site(response, allowed_paths=None):
    assert response.status_code in (301, 302, 303), (response.status_code, response.content[:200])
    location = response["Location"]
    parts = urlsplit(as_browser_reads(location))
    assert parts.scheme in ("", "http", "https"), location
    assert parts.netloc in ("", "testserver"), location
    assert parts.path.startswith("/") or parts.path == "", location
    if allowed_paths is not None:
        assert parts.path in allowed_paths, location


@pytest.mark.parametrize("target", HOSTILE)
def test_login_post_never_redirects_off_site(user, target):
    response = Client().post("/login/", {"email": user.email, "password": user.raw_password, "next": target})
    assert "access_token" in response.cookies  # it did log in
    assert_on_site(response)


@pytest.mark.parametrize("target", HOSTILE)
def test_login_query_next_never_redirects_off_site(user, target):
    response = Client().post("/login/?" + _query(target), {"email": user.email, "password": user.raw_password})
    assert_on_site(response)


@pytest.mark.parametrize("target", HOSTILE)
def test_register_never_redirects_off_site(db, target):
    email = f"redirect-{abs(hash(target))}@example.com"
    response = Client().post(
        "/register/?" + _query(target), {"email": email, "password": "violet-anchor-Plum-7391", "next": target}
    )
    assert "access_token" in response.cookies
    assert_on_site(response)


@pytest.mark.parametrize("target", HOSTILE)
def test_logged_in_visit_of_login_never_redirects_off_site(user, target):
    client = Client()
    client.cookies["access_token"] = issue_pair(user).access
    response = client.get("/login/?" + _query(target))
    assert_on_site(response)


def test_the_check_would_catch_an_off_site_redirect():
    """The helper itself: these Locations leave the site in a browser."""
    from django.http import HttpResponseRedirect

    for location in ["//evil.example", "/\\evil.example", " /\t/evil.example", "https://evil.example/"]:
        response = HttpResponseRedirect("/")
        response["Location"] = location
        with pytest.raises(AssertionError):
            assert_on_site(response)


@pytest.mark.parametrize("target", ["/sketches/", "/account/?tab=password", "/sketches/#top"])
def test_same_site_next_is_kept(user, target):
    response = Client().post("/login/", {"email": user.email, "password": user.raw_password, "next": target})
    assert response.status_code == 302
    assert response["Location"] == target


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "javascript:alert(1)"])
def test_admin_login_redirect_stays_on_site(target):
    response = Client().get("/admin/login/?" + _query(target))
    assert_on_site(response)
    # If it goes to the site's login page with the next along, following it must not leave the site either.
    assert urlsplit(response["Location"]).netloc in ("", "testserver")


@pytest.mark.parametrize("target", ['"><script>alert(1)</script>', "javascript:alert(1)", "'onmouseover='alert(1)"])
def test_next_is_not_reflected_unescaped(db, target):
    for page in ("/login/", "/register/"):
        html = Client().get(page + "?" + _query(target)).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "'onmouseover='" not in html
        assert 'value="javascript:' not in html, page
        assert 'href="javascript:' not in html, page


def _query(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})
