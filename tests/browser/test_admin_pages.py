"""The admin at 1440x900: the sketch list fits (the "Took" column is not cut off) and a sketch's
page is read-only with its own job buttons."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import ADMIN_EMAIL, log_in, screenshot

pytestmark = pytest.mark.browser

WIDE = {"width": 1440, "height": 900}
MAKE_ROWS = """
import uuid
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from sketches.models import Sketch, Upload
owner = User.objects.create_user(email=f"a-rather-long-address-{uuid.uuid4().hex[:6]}@example-company.com", password="x-sketchy-horse-42")
upload = Upload.objects.create(owner=owner, key=f"uploads/{owner.pk}/{uuid.uuid4().hex}.png", content_type="image/png",
                               status="confirmed", size=10, original_name="holiday-photo-2026.png")
now = timezone.now()
failed = Sketch.objects.create(owner=owner, upload=upload, status="failed", style="watercolor", method="artistic",
    task_id=uuid.uuid4().hex, error="The original photo is no longer in storage; upload it again.", attempts=3,
    started_at=now - timedelta(seconds=12), finished_at=now)
print(failed.pk, owner.email)
"""


def test_sketch_list_fits_and_the_sketch_page_is_read_only(app, pages):
    sketch_id, email = app.shell(MAKE_ROWS).split()
    page = pages.new(WIDE)
    log_in(page, ADMIN_EMAIL, "/admin/")
    page.goto("/admin/sketches/sketch/")
    results = page.locator("#changelist .results")
    took = page.locator("th.column-duration")
    expect(took).to_be_visible()
    overflow = results.evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 0, f"the list is {overflow} px wider than its box"
    assert took.bounding_box()["x"] + took.bounding_box()["width"] <= WIDE["width"]
    row = page.locator("#result_list tbody tr").filter(has_text=email[:20])
    expect(row.locator("td.field-duration")).to_have_text("12.0 s")
    expect(row.locator("td.field-created_at")).to_have_text(re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}$"))
    screenshot(page, "admin-sketches-1440.png")

    page.goto(f"/admin/sketches/sketch/{sketch_id}/change/")
    expect(page.locator('input[name="_save"]')).to_have_count(0)
    page.get_by_test_id("job-retry").click()
    expect(page.locator(".messagelist")).to_contain_text("The sketch was queued again.")
    expect(page.locator("#job-actions")).to_be_visible()
    screenshot(page, "admin-sketch-page.png")

    page.goto("/admin/sketches/upload/")
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    expect(page.locator("#result_list img")).to_have_count(0)
