"""``make scan``: the wapiti web scanner against a running embedded server, anonymous and logged in.

Starts the embedded default (daphne, SQLite and media in a scratch VAR_DIR, JSON request log) on
a free port, gives it a user with a finished sketch so that there are pages and ids to attack,
then runs wapiti three times: as an anonymous visitor, with that user's cookies and CSRF header,
and with an expired access cookie and no CSRF header (a browser back after a break).
Each run is bounded (``--max-scan-time``); wapiti's callback endpoints (SSRF, XXE) point at a
small sink on 127.0.0.1 that answers "nothing received" and counts what reaches it, so nothing
leaves the machine. It fails when the server's log holds a 5xx answer or a traceback, and prints them.

    python -m scripts.scan --wapiti .venv-scan/bin/wapiti [--scan-time 90] [--attack-time 15] [--keep DIR]
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.stack import EmbeddedStack, photo_jpeg, standalone_env  # noqa: E402

PHOTO = ROOT / "tests" / "photos" / "colorful-cups.jpg"
# Ending the scan's own session would turn the logged-in half into an anonymous one.
SESSION_ENDERS = ("/logout/", "/api/auth/logout", "/api/auth/logout-all", "/admin/logout/")


class CallbackSink(BaseHTTPRequestHandler):
    """wapiti's endpoint: the server under test would call it on an SSRF or XXE (a finding);
    wapiti itself asks it for those calls (``get_ssrf.php``, ``get_xxe.php``): none, ``{}``."""

    hits: list[str] = []

    def do_GET(self):
        if self.path != "/" and not self.path.startswith("/get_"):  # not wapiti's own ping or question
            CallbackSink.hits.append(self.path)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_HEAD = do_GET

    def log_message(self, *args):
        pass


def start_sink() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CallbackSink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def seed_user(stack: EmbeddedStack) -> dict:
    """A user with a confirmed photo and a completed sketch; returns the browser's cookies."""
    client = stack.client()
    email = "scanner@example.com"
    signup = client.post("/api/auth/register", {"email": email, "password": "scan-Password-4821"}, expect=201)
    cookies = {name: signup.cookies[name] for name in ("access_token", "refresh_token")}
    client.session.cookies.clear()
    client.token = signup.json()["access_token"]
    client.session.headers["Authorization"] = f"Bearer {client.token}"
    upload = client.upload(photo_jpeg(PHOTO, size=(640, 480)), "cups.jpg")
    sketch = client.create(upload["id"], style="ink", method="basic")
    client.wait(sketch["id"], timeout=120)
    # The pages' CSRF cookie: wapiti sends it back with the header on every request.
    me = requests.get(f"{stack.url}/api/auth/me", cookies=cookies, timeout=30)
    cookies["csrftoken"] = me.cookies["csrftoken"]
    return cookies


def stale_cookies(stack: EmbeddedStack, cookies: dict) -> dict:
    """A browser back after a break: its 15-minute access cookie has expired, and it sends no CSRF header."""
    import jwt

    payload = jwt.decode(cookies["access_token"], options={"verify_signature": False})
    payload["exp"] = int(time.time()) - 60
    key = stack.env.get("JWT_SECRET_KEY") or stack.env["DJANGO_SECRET_KEY"]
    return {"access_token": jwt.encode(payload, key, algorithm="HS256")}


def save_schema(stack: EmbeddedStack, work: Path) -> Path:
    """wapiti reads an OpenAPI file by its name's extension."""
    path = work / "openapi.json"
    response = requests.get(f"{stack.url}/api/schema/?format=json", timeout=60)
    response.raise_for_status()
    path.write_bytes(response.content)
    return path


def wapiti(
    binary: str, stack: EmbeddedStack, sink: str, work: Path, name: str, times: tuple[int, int], cookies: dict | None
) -> int:
    scan_time, attack_time = times
    command = [
        os.path.abspath(binary),
        "-u",
        f"{stack.url}/",
        "--scope",
        "folder",
        "--max-scan-time",
        str(scan_time),
        "--max-attack-time",
        str(attack_time),
        "--endpoint",
        sink,
        "--external-endpoint",
        sink,
        "--internal-endpoint",
        sink,
        "--dns-endpoint",
        "127.0.0.1",
        "--flush-session",
        "--store-session",
        str(work / "session"),
        "--store-config",
        str(work / "config"),
        "--no-bugreport",
        "--tasks",
        "4",
        "-t",
        "20",
        "-f",
        "json",
        "-o",
        str(work / f"{name}.json"),
        "-v",
        "1",
    ]
    for path in SESSION_ENDERS:
        command += ["-x", f"{stack.url}{path}*"]
    # The API is not linked from the pages: its OpenAPI schema and the auth paths tell wapiti where it is.
    command += ["--swagger", str(save_schema(stack, work))]
    for start in ("/login/", "/register/", "/api/docs/", "/api/auth/login", "/api/auth/register", "/api/auth/refresh"):
        command += ["-s", f"{stack.url}{start}"]
    if cookies:
        command += ["-C", "; ".join(f"{k}={v}" for k, v in cookies.items()), "--drop-set-cookie"]
    if cookies and "csrftoken" in cookies:
        command += ["-H", f"X-CSRFToken: {cookies['csrftoken']}", "-s", f"{stack.url}/account/", "-s", f"{stack.url}/sketches/"]
    print(f"--- wapiti, {name}: {scan_time} s of scan, {attack_time} s per module at most", flush=True)
    with open(work / f"{name}.log", "wb") as log:
        return subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=work).returncode


def read_log(path: Path) -> tuple[list[dict], collections.Counter, collections.Counter]:
    """The request lines of the JSON log; 5xx answers by route; unhandled errors by their last line."""
    seen, server_errors, exceptions = [], collections.Counter(), collections.Counter()
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            if "Traceback (most recent call last)" in line:
                exceptions[line[-200:]] += 1
            continue
        if record.get("logger") == "sketchsite.request":
            seen.append(record)
            if int(record.get("status", 0)) >= 500:
                server_errors[f"{record['status']} {record.get('method')} {record.get('path')}"] += 1
        elif record.get("severity") in ("ERROR", "CRITICAL") or "traceback" in record:
            last = (record.get("traceback") or record.get("message") or "").strip().splitlines()[-1:] or ["?"]
            exceptions[f"{record.get('logger')}: {last[0][:200]}"] += 1
    return seen, server_errors, exceptions


def findings(report: Path) -> dict:
    """wapiti's own verdicts by category (on the embedded default: the cookie flags of plain http)."""
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        return {"report": "missing"}
    return {kind: len(items) for section in ("vulnerabilities", "anomalies") for kind, items in data[section].items() if items}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wapiti", default=str(ROOT / ".venv-scan" / "bin" / "wapiti"))
    parser.add_argument("--scan-time", type=int, default=90, help="seconds of crawling and attacks per run, at most")
    parser.add_argument("--attack-time", type=int, default=15, help="seconds per attack module, at most")
    parser.add_argument("--keep", help="keep the logs and reports in this directory")
    args = parser.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="sketch-scan-"))
    work.mkdir(parents=True, exist_ok=True)
    env = standalone_env(work / "var")
    stack = EmbeddedStack(env, work / "var", work / "logs", env={"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}).start()
    sink, sink_url = start_sink()
    times = (args.scan_time, args.attack_time)
    started = time.monotonic()
    try:
        cookies = seed_user(stack)
        codes = {
            "anonymous": wapiti(args.wapiti, stack, sink_url, work, "anonymous", times, None),
            "logged-in": wapiti(args.wapiti, stack, sink_url, work, "logged-in", times, cookies),
            "stale-cookie": wapiti(args.wapiti, stack, sink_url, work, "stale-cookie", times, stale_cookies(stack, cookies)),
        }
    finally:
        stack.stop()
        sink.shutdown()
    seen, server_errors, exceptions = read_log(stack.web.log_path)
    statuses = collections.Counter(record["status"] for record in seen)
    users = sum(1 for record in seen if record.get("user_id"))
    print(f"--- {len(seen)} requests in {time.monotonic() - started:.0f} s, {users} of them logged in")
    print("    statuses: " + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items())))
    print(f"    calls that reached wapiti's endpoint (SSRF/XXE): {len(CallbackSink.hits)} {CallbackSink.hits[:5]}")
    for name, code in codes.items():
        print(f"    wapiti {name}: exit {code}, findings {findings(work / (name + '.json'))}")
    print(f"--- {sum(server_errors.values())} server errors (5xx answers)")
    for route, count in server_errors.most_common():
        print(f"    {count:5d} x {route}")
    if exceptions:
        print(f"--- {sum(exceptions.values())} unhandled exceptions logged")
        for last_line, count in exceptions.most_common(30):
            print(f"    {count:5d} x {last_line}")
    failed = bool(server_errors) or bool(exceptions) or any(codes.values())
    if not args.keep and not failed:
        shutil.rmtree(work, ignore_errors=True)
    elif not args.keep:
        print(f"    logs kept in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
