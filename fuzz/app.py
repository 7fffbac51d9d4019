"""Start the embedded default (SQLite, local media, in-process worker) as a real daphne process.

Everything lives in a temporary VAR_DIR, so a fuzz run never touches var/ or a real database.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.processes import base_env, daphne, free_port  # noqa: E402

# High enough that the fuzzer explores validation instead of meeting 429s; the throttles
# themselves are covered by the security tests.
# DEBUG off means production security: HTTPS redirects unless a TLS proxy says the request came
# over HTTPS. The fuzzer plays that proxy on every request.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
FUZZ_THROTTLES = {
    "THROTTLE_LOGIN_IP": "100000/min",
    "THROTTLE_LOGIN_EMAIL": "100000/min",
    "THROTTLE_REGISTER_IP": "100000/min",
    "THROTTLE_REGISTER_EMAIL": "100000/min",
    "THROTTLE_SKETCH_CREATE": "100000/min",
}


def app_env(var_dir: Path, port: int, debug: bool = False, **extra) -> dict:
    return base_env(
        DATABASE_URL=None,
        REDIS_URL=None,
        AWS_BUCKET_NAME=None,
        ENV_FILE=str(var_dir / "no.env"),  # never read the developer's .env
        DEBUG="true" if debug else "false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        BASE_URL=f"http://127.0.0.1:{port}",
        VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="sketchsite.settings",
        **FUZZ_THROTTLES,
        **extra,
    )


@contextmanager
def running_app(log_dir: Path, debug: bool = False, keep: bool = False, **extra):
    """Yield the base URL of a freshly migrated embedded app; stop it and clean up afterwards."""
    var_dir = Path(tempfile.mkdtemp(prefix="sketch-fuzz-"))
    port = free_port()
    env = app_env(var_dir, port, debug, **extra)
    log_dir.mkdir(parents=True, exist_ok=True)
    server = None
    try:
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
            done = subprocess.run(
                [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
            )
            if done.returncode:
                raise RuntimeError(f"manage.py {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        server, port = daphne(env, log_dir, port=port, name="fuzz-daphne")
        yield f"http://127.0.0.1:{port}", server
    finally:
        if server is not None:
            server.stop()
        if not keep:
            shutil.rmtree(var_dir, ignore_errors=True)


def post_json(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "Accept": "application/json", **PROXY_HEADERS}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def register(base_url: str) -> tuple[str, dict]:
    """A fresh user: its access token and the register response."""
    email = f"fuzz-{secrets.token_hex(6)}@example.com"
    status, body = post_json(
        f"{base_url}/api/auth/register", {"email": email, "password": secrets.token_urlsafe(18), "display_name": "Fuzz"}
    )
    if status != 201 or "access_token" not in body:
        raise RuntimeError(f"register answered {status}: {body}")
    return body["access_token"], body
