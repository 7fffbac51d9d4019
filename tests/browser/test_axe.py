"""Accessibility by a rule set no one here wrote: axe-core, injected into every page at both sizes.

axe-core comes from node_modules/ (package.json, installed by `make install-dev`): nothing is
downloaded while the tests run.
"""

import pytest
from playwright.sync_api import expect

from tests.support.processes import ROOT

from .conftest import ADMIN_EMAIL, PHONE, PHOTOS, choose_photo, log_in, new_email, register

pytestmark = pytest.mark.browser

# The site's CSP forbids inline scripts; the test's context bypasses it to inject axe.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": PHONE}

SIGNED_OUT = ["/", "/login/", "/register/", "/no-such-page/", "/api/", "/api/sketch/styles/available", "/api/docs/"]
SIGNED_IN = ["/", "/sketches/", "/account/", "/api/", "/api/sketch/", "/api/auth/me", "/api/docs/"]
ADMIN = ["/admin/", "/admin/sketches/sketch/", "/admin/sketches/upload/", "/admin/accounts/user/"]

MAKE_SKETCH = """
import uuid
from accounts.models import User
from sketches.models import Sketch, Upload
owner = User.objects.create_user(email=f"axe-{uuid.uuid4().hex[:8]}@example.com", password="x-sketchy-horse-42")
upload = Upload.objects.create(owner=owner, key=f"uploads/{owner.pk}/{uuid.uuid4().hex}.png", content_type="image/png",
                               status="confirmed", size=10, original_name="photo.png")
print(Sketch.objects.create(owner=owner, upload=upload, status="failed", style="ink", method="basic",
                            task_id=uuid.uuid4().hex, error="It broke.").pk)
"""

RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5), count: v.nodes.length,
  }));
}"""


def violations(page, path: str) -> list[dict]:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]


def report(found: dict) -> str:
    lines = []
    for where, items in found.items():
        for v in items:
            lines.append(f"{where}: {v['id']} ({v['impact']}, {v['count']} nodes) {v['help']}: {v['nodes']}")
    return "\n".join(lines)


def check(page, size: str, paths: list[str], who: str) -> dict:
    return {f"{who} {size} {path}": found for path in paths if (found := violations(page, path))}


@pytest.fixture(scope="module")
def axe_ready():
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install-dev` (npm ci)")


def check_here(page, where: str) -> dict:
    """axe on the page as it is now (after clicks), not freshly loaded."""
    page.add_script_tag(path=str(AXE))
    found = [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]
    return {where: found} if found else {}


@pytest.mark.parametrize("size", SIZES)
def test_no_serious_violations_signed_out_and_in(app, pages, axe_ready, size):
    page = pages.new(viewport=SIZES[size], bypass_csp=True)
    found = check(page, size, SIGNED_OUT, "signed out")
    register(page, new_email("axe"), name="Axe")
    found |= check(page, size, SIGNED_IN, "signed in")

    # The pages with something in them: a result in the studio, a card in the gallery.
    page.goto("/")
    choose_photo(page, PHOTOS / "astronaut.png")
    expect(page.get_by_test_id("create")).to_be_enabled()
    page.get_by_test_id("create").click()
    expect(page.get_by_test_id("result-image")).to_be_visible(timeout=60_000)
    found |= check_here(page, f"signed in {size} / with a result")
    page.goto("/sketches/")
    expect(page.get_by_test_id("sketch-card")).to_have_count(1)
    found |= check_here(page, f"signed in {size} /sketches/ with a card")
    page.get_by_test_id("delete").click()
    found |= check_here(page, f"signed in {size} /sketches/ delete dialog")
    assert not found, "axe-core found serious or critical violations:\n" + report(found)


@pytest.mark.parametrize("size", SIZES)
def test_no_serious_violations_in_the_admin(app, pages, axe_ready, size):
    page = pages.new(viewport=SIZES[size], bypass_csp=True)
    log_in(page, ADMIN_EMAIL, "/admin/")
    sketch = app.shell(MAKE_SKETCH).strip()
    found = check(page, size, [*ADMIN, f"/admin/sketches/sketch/{sketch}/change/"], "admin")
    assert not found, "axe-core found serious or critical violations:\n" + report(found)


def test_api_pages_fit_a_phone(app, pages):
    """The browsable API and the Swagger UI render at the phone's width, not 980 px zoomed out."""
    page = pages.new(viewport=PHONE)
    for path in ["/api/", "/api/sketch/styles/available", "/api/docs/"]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("[window.innerWidth, document.documentElement.scrollWidth]")
        assert width == [PHONE["width"], PHONE["width"]], f"{path}: viewport and page width {width}"
    page.locator(".opblock-summary-control").first.wait_for()
    assert page.locator(".opblock-summary-control a[href]").count() == 0  # no links inside the toggles
