"""Browser tests: Debian's headless Chromium, driven by Playwright, against a real daphne.

The app runs as a child process on the embedded default (SQLite and media in a temporary
VAR_DIR, the in-memory channel layer, the in-process worker), with DEBUG on so that the cookies
are not Secure on plain http. Nothing is downloaded by Playwright: Chromium comes from apt
(`apt-get install chromium`; .ci/run does it) and is launched by its path.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import ROOT, base_env, daphne, free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHOTOS = ROOT / "tests" / "photos"
ARTIFACTS = ROOT / "var" / "test-artifacts"
PASSWORD = "sketchy-horse-battery-42"
ADMIN_EMAIL = "admin@example.com"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
STUDIO_URL = re.compile(r"^http://[^/]+/$")


class App:
    """The running site: its URL, its environment, and manage.py in that environment."""

    def __init__(self, base_url: str, env: dict, var_dir: Path, server):
        self.base_url, self.env, self.var_dir, self.server = base_url, env, var_dir, server
        self.media = var_dir / "media"

    def url(self, path: str) -> str:
        return self.base_url + path

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-v", "0", "-c", code)


# Package scope: Playwright's sync API keeps an event loop running in the main thread, and Django
# refuses database calls from there; the browser must be gone before the next package's tests.
@pytest.fixture(scope="package")
def app(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    var_dir = tmp_path_factory.mktemp("browser-var")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = base_env(
        DATABASE_URL=None,
        REDIS_URL=None,
        AWS_BUCKET_NAME=None,
        DEBUG="true",
        VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="sketchsite.settings",
        BASE_URL=base_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="INFO",
        MAX_CONCURRENT_TASKS="5",
    )
    site = App(base_url, env, var_dir, None)
    site.manage("migrate", "--noinput", "-v", "0")
    site.shell(f"from accounts.models import User; User.objects.create_superuser({ADMIN_EMAIL!r}, {PASSWORD!r})")
    server, _ = daphne(env, var_dir / "logs", port=port)
    site.server = server
    yield site
    server.stop()
    # Kept whatever happened: a failed check's story (a job's retries, a lost update) is told here.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "browser-daphne.log").write_text(server.output())


@pytest.fixture(scope="package")
def browser(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Pages:
    """New browser contexts (each its own cookie jar) that collect console errors."""

    def __init__(self, browser, app):
        self.browser, self.app = browser, app
        self.contexts = []
        self.errors: list[str] = []

    def new(self, viewport=DESKTOP, **options):
        context = self.browser.new_context(viewport=viewport, accept_downloads=True, base_url=self.app.base_url, **options)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and self.errors.append(f"{page.url}: {message.text}"))
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, app):
    opened = Pages(browser, app)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def record_timing(name: str, seconds: float) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "browser-timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings[name] = round(seconds, 2)
    path.write_text(json.dumps(timings, indent=2))


# ----------------------------------------------------------------------------- page helpers
_emails = iter(range(10**6))


def new_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_emails)}-{os.getpid()}-{int(time.time() * 1000) % 10**7}@example.com"


def register(page, email: str, name: str = "") -> None:
    page.goto("/register/")
    page.fill("#id_email", email)
    if name:
        page.fill("#id_display_name", name)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(STUDIO_URL)


def log_in(page, email: str, next_path: str = "/") -> None:
    page.goto(f"/login/?next={next_path}")
    page.fill("#id_email", email)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(rf"^http://[^/]+{re.escape(next_path)}$"))


def choose_photo(page, path) -> None:
    page.set_input_files("#photo-input", str(path))


def screenshot(page, name: str) -> None:
    """A full-page picture for people to look at (var/test-artifacts/, not committed)."""
    page.evaluate("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)
