"""The embedded default (no DATABASE_URL, REDIS_URL or AWS_BUCKET_NAME) as a black-box client sees it:
one daphne process on SQLite, in-memory channels and local media; cookies and CSRF as a browser uses them."""

import json
import re
import subprocess
import sys
import time

import pytest
import requests
from websockets.sync.client import connect

from tests.support.processes import ROOT, base_env, daphne, free_port

pytestmark = pytest.mark.timeout(120)

PASSWORD = "violet-anchor-Plum-7391"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    var = tmp_path_factory.mktemp("embedded-var")
    port = free_port()
    env = base_env(
        DATABASE_URL=None,
        REDIS_URL=None,
        AWS_BUCKET_NAME=None,
        JWT_SECRET_KEY=None,
        DJANGO_SECRET_KEY=None,
        ALLOWED_HOSTS=None,
        DEBUG="true",
        VAR_DIR=str(var),
        ENV_FILE=str(var / "none.env"),
        BASE_URL=f"http://127.0.0.1:{port}",
        DJANGO_SETTINGS_MODULE="sketchsite.settings",
    )
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    assert (var / "db.sqlite3").exists()
    server, port = daphne(env, var / "logs", port=port)
    yield {"http": f"http://127.0.0.1:{port}", "ws": f"ws://127.0.0.1:{port}/ws", "var": var, "env": env}
    server.stop()


def csrf(session) -> dict:
    return {"X-CSRFToken": session.cookies["csrftoken"]}


def test_health_without_services(embedded):
    response = requests.get(f"{embedded['http']}/health", timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["checks"]["database"]["engine"] == "sqlite"
    assert "redis" not in body["checks"]
    assert body["checks"]["storage"]["ok"]


def test_api_client_flow(embedded):
    base = embedded["http"]
    s = requests.Session()
    # register: logged in by cookie
    r = s.post(
        f"{base}/api/auth/register",
        json={"email": "Smoke@Example.com", "password": PASSWORD, "display_name": "Smoky"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    assert r.json()["user"]["email"] == "smoke@example.com"
    assert {"access_token", "refresh_token", "csrftoken"} <= set(s.cookies.keys())
    cookie = next(c for c in s.cookies if c.name == "access_token")
    assert not cookie.secure and cookie.has_nonstandard_attr("HttpOnly")  # DEBUG: no Secure, still HttpOnly
    # me
    r = s.get(f"{base}/api/auth/me", timeout=30)
    assert r.status_code == 200 and r.json()["display_name"] == "Smoky"
    # refresh: cookie-authenticated, so CSRF applies
    old_refresh = s.cookies["refresh_token"]
    assert s.post(f"{base}/api/auth/refresh", timeout=30).status_code == 403
    r = s.post(f"{base}/api/auth/refresh", headers=csrf(s), timeout=30)
    assert r.status_code == 200, r.text
    assert s.cookies["refresh_token"] != old_refresh
    # the old refresh token is dead
    replay = requests.post(f"{base}/api/auth/refresh", json={"refresh": old_refresh}, timeout=30)
    assert replay.status_code == 401
    assert s.get(f"{base}/api/auth/me", timeout=30).status_code == 200
    # logout
    r = s.post(f"{base}/api/auth/logout", headers=csrf(s), timeout=30)
    assert r.status_code == 204
    assert "access_token" not in s.cookies and "refresh_token" not in s.cookies
    r = s.get(f"{base}/api/auth/me", timeout=30)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    # login again, with the email in another case, and use the body's token as a Bearer client
    r = requests.post(f"{base}/api/auth/login", json={"email": "SMOKE@example.com", "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = requests.get(f"{base}/api/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert me.json()["email"] == "smoke@example.com"
    # the socket on the in-memory layer
    with connect(f"{embedded['ws']}?token={token}", open_timeout=20) as ws:
        assert json.loads(ws.recv(timeout=20)) == {"type": "sketch.snapshot", "sketches": []}
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=20)) == {"type": "pong"}


def test_browser_flow_through_the_pages(embedded):
    base = embedded["http"]
    s = requests.Session()
    page = s.get(f"{base}/register/", timeout=30)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    r = s.post(
        f"{base}/register/",
        data={
            "email": "pages@example.com",
            "password": PASSWORD,
            "display_name": "Page Person",
            "csrfmiddlewaretoken": token,
            "next": "/account/",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302 and r.headers["Location"] == "/account/", r.text[:500]
    account = s.get(f"{base}/account/", timeout=30)
    assert account.status_code == 200 and "Page Person" in account.text
    home = s.get(f"{base}/", timeout=30)
    assert home.status_code == 200 and "Page Person" in home.text
    # log out through the form
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', home.text).group(1)
    r = s.post(f"{base}/logout/", data={"csrfmiddlewaretoken": token}, allow_redirects=False, timeout=30)
    assert r.status_code == 302
    r = s.get(f"{base}/account/", allow_redirects=False, timeout=30)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login/")


PUBLIC_DEV_KEY = "dev-insecure-secret-key-do-not-use-in-production"


def manage(env, *args, **overrides):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**env, **overrides},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_published_dev_key_signs_nothing(embedded, tmp_path):
    """The attack: a token signed with the key once written in the source made /api/auth/me answer
    as the admin, and download links signed with it worked. Now the key is random, per install."""
    import jwt
    from django.core import signing

    from sketches.storage import DOWNLOAD_SALT

    key_file = embedded["var"] / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert PUBLIC_DEV_KEY not in key_file.read_text()
    # `make superuser` right after `make run`: DEBUG unset, nothing configured, same var/.
    env = {k: v for k, v in embedded["env"].items() if k != "DEBUG"}
    created = manage(
        env,
        "createsuperuser",
        "--noinput",
        DJANGO_SUPERUSER_EMAIL="root@example.com",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )
    assert created.returncode == 0, created.stderr[-3000:]
    base = embedded["http"]
    login = requests.post(f"{base}/api/auth/login", json={"email": "root@example.com", "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    admin_id = login.json()["user"]["id"]
    assert login.json()["user"]["role"] == "admin"
    now = int(time.time())
    claims = {"token_type": "access", "exp": now + 300, "iat": now, "jti": "f" * 32, "user_id": str(admin_id)}
    forged = jwt.encode(claims, PUBLIC_DEV_KEY, algorithm="HS256")
    me = requests.get(f"{base}/api/auth/me", headers={"Authorization": f"Bearer {forged}"}, timeout=30)
    assert me.status_code == 401, me.text
    # A forged download link for a file that exists.
    media = embedded["var"] / "media" / "results" / "1"
    media.mkdir(parents=True, exist_ok=True)
    (media / "secret.png").write_bytes(b"\x89PNG private")
    token = signing.dumps(
        {"key": "results/1/secret.png", "filename": "x.png"}, key=PUBLIC_DEV_KEY, salt=DOWNLOAD_SALT, compress=True
    )
    download = requests.get(f"{base}/files/results/1/secret.png", params={"token": token}, timeout=30)
    assert download.status_code == 403, download.text
    # `manage.py sketch` with nothing configured either.
    from tests.conftest import image_bytes

    (tmp_path / "in.png").write_bytes(image_bytes(64, 48))
    sketch = manage(env, "sketch", str(tmp_path / "in.png"), str(tmp_path / "out.png"), "--style", "ink")
    assert sketch.returncode == 0, sketch.stderr[-3000:]
    assert (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"
