"""A person does the whole job in the browser: register, upload, draw, watch, download, manage."""

import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, PHOTOS, choose_photo, new_email, record_timing, register, screenshot

pytestmark = pytest.mark.browser

# Records every value the job's progress bar takes, and a marker that a reload would erase.
OBSERVE_PROGRESS = """() => {
  window.__marker = "no-reload";
  window.__progress = [];
  window.__stages = [];
  const bar = document.getElementById("job-bar");
  new MutationObserver(() => window.__progress.push(Number(bar.getAttribute("aria-valuenow"))))
    .observe(bar, {attributes: true, attributeFilter: ["aria-valuenow"]});
  const label = document.getElementById("job-label");
  new MutationObserver(() => window.__stages.push(label.textContent))
    .observe(label, {childList: true, characterData: true, subtree: true});
}"""


def api_calls(page, fragment: str, method: str = "POST") -> list:
    calls = []
    page.on("request", lambda request: request.method == method and fragment in request.url and calls.append(request.url))
    return calls


def own_page_errors(pages) -> list[str]:
    """Console errors of our pages (the browsable API's own template is not ours)."""
    return [e for e in pages.errors if "/api/" not in e.split(": ", 1)[0]]


def test_photo_to_sketch_download_gallery_delete(app, pages, tmp_path):
    page = pages.new()
    presigns = api_calls(page, "/api/upload/presigned-url")
    uploads = api_calls(page, "/api/upload/local")
    creates = api_calls(page, "/api/sketch/create")
    register(page, new_email("artist"), name="Ada")
    expect(page.get_by_test_id("user-name")).to_have_text("Ada")
    expect(page.get_by_test_id("create")).to_be_disabled()
    screenshot(page, "studio-desktop-start.png")

    page.evaluate(OBSERVE_PROGRESS)
    started = time.monotonic()
    choose_photo(page, PHOTOS / "forest-path.jpg")
    expect(page.get_by_test_id("create")).to_be_enabled()
    expect(page.get_by_test_id("file-meta")).to_contain_text("2560×1600")
    expect(page.get_by_test_id("upload-progress")).to_be_hidden()
    uploaded = time.monotonic()

    page.get_by_test_id("style-ink").click()
    expect(page.locator("#style-ink")).to_be_checked()
    expect(page.locator("#style-description")).to_contain_text("Pen and ink")
    page.get_by_test_id("method-advanced").click()
    page.get_by_test_id("create").click()
    result = page.get_by_test_id("result-image")
    expect(result).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("download")).to_be_visible()
    finished = time.monotonic()
    record_timing("upload_to_result_s", finished - started)
    record_timing("upload_s", uploaded - started)
    record_timing("create_to_result_s", finished - uploaded)

    # The bar moved through intermediate values, in order, over the socket: no reload.
    progress = page.evaluate("window.__progress")
    assert any(0 < value < 100 for value in progress), progress
    assert progress == sorted(progress), progress
    assert page.evaluate("window.__marker") == "no-reload"
    stages = " | ".join(page.evaluate("window.__stages"))
    assert "Drawing" in stages or "Reading" in stages or "Fetching" in stages, stages
    assert result.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [2560, 1600]
    expect(result).to_have_attribute("alt", re.compile("Ink"))
    screenshot(page, "studio-desktop.png")

    # The before/after slider works by keyboard.
    slider = page.locator("#compare-range")
    slider.focus()
    page.keyboard.press("ArrowLeft")
    assert float(slider.input_value()) < 50

    # Download the file and decode it.
    with page.expect_download() as info:
        page.get_by_test_id("download").click()
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    from PIL import Image

    with Image.open(saved) as drawing:
        drawing.load()
        assert drawing.size == (2560, 1600)
        assert drawing.format == "PNG"

    # Another style from the same upload: nothing is uploaded again.
    page.get_by_test_id("try-another").click()
    expect(page.locator("#style-ink")).to_be_focused()
    page.get_by_test_id("style-pencil").click()
    page.get_by_test_id("create").click()
    expect(result).to_have_attribute("alt", re.compile("Pencil"), timeout=60_000)
    expect(result).to_be_visible()
    assert len(presigns) == 1 and len(uploads) == 1, (presigns, uploads)
    assert len(creates) == 2

    # The gallery shows both; filter, then delete one behind the confirmation dialog.
    page.get_by_role("link", name="My sketches").click()
    cards = page.get_by_test_id("sketch-card")
    expect(cards).to_have_count(2)
    expect(page.get_by_test_id("gallery-summary")).to_have_text("2 sketches")
    expect(cards.first).to_contain_text("Pencil")
    expect(cards.first.get_by_test_id("sketch-status")).to_have_text("Completed")
    expect(cards.first.locator(".thumb img")).to_have_attribute("alt", re.compile("Pencil style"))
    for image in cards.locator(".thumb img").all():
        image.evaluate("img => img.complete || new Promise(done => { img.onload = img.onerror = done; })")
    screenshot(page, "gallery-desktop.png")
    pencil_id = cards.first.get_attribute("data-id")

    page.get_by_test_id("filter-style").select_option("ink")
    expect(cards).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/sketches/\?style=ink$"))
    dialog = page.get_by_test_id("delete-dialog")
    delete = cards.first.get_by_test_id("delete")
    delete.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # keyboard users can back out; focus returns to the button
    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()
    delete.click()
    expect(dialog).to_be_visible()
    page.get_by_test_id("confirm-delete").click()
    expect(dialog).to_be_hidden()
    expect(cards).to_have_count(0)
    expect(page.locator("#empty")).to_contain_text("Nothing matches these filters")
    page.get_by_test_id("filter-style").select_option("")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Pencil")

    # Another user sees none of it.
    other = pages.new()
    register(other, new_email("stranger"))
    other.goto("/sketches/")
    expect(other.locator("#empty")).to_contain_text("No sketches yet")
    expect(other.get_by_test_id("sketch-card")).to_have_count(0)
    assert other.request.get(f"/api/sketch/{pencil_id}").status == 404
    assert page.request.get(f"/api/sketch/{pencil_id}").status == 200

    assert not own_page_errors(pages), own_page_errors(pages)


def test_phone_size_with_the_socket_down_at_first(app, pages):
    """At 390x844 everything fits; the first sockets fail, polling and the snapshot catch up."""
    page = pages.new(PHONE)
    attempts = []

    def refuse_twice(ws):
        attempts.append(time.monotonic())
        if len(attempts) <= 2:
            ws.close(code=1011, reason="test: refused")
        else:
            ws.connect_to_server()

    page.route_web_socket(re.compile(r"/ws$"), refuse_twice)
    polls = api_calls(page, "/api/sketch/", method="GET")
    register(page, new_email("phone"))
    choose_photo(page, PHOTOS / "astronaut.png")
    expect(page.get_by_test_id("create")).to_be_enabled()
    page.get_by_test_id("style-watercolor").click()
    page.get_by_test_id("create").click()
    expect(page.get_by_test_id("result-image")).to_be_visible(timeout=30_000)
    assert len(attempts) >= 2
    assert any(re.search(r"/api/sketch/[0-9a-f-]{36}$", url) for url in polls), polls  # caught up over HTTP
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "studio-phone.png")

    page.get_by_role("link", name="My sketches").click()
    expect(page.get_by_test_id("sketch-card")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "gallery-phone.png")
    page.goto("/account/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "account-phone.png")
    assert len(attempts) >= 3  # the socket came back after the back-off
    assert not own_page_errors(pages), own_page_errors(pages)


def test_wrong_files_and_an_expired_session_are_explained(app, pages, tmp_path):
    page = pages.new()
    presigns = api_calls(page, "/api/upload/presigned-url")
    register(page, new_email("careless"))
    error = page.get_by_test_id("studio-error")

    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    choose_photo(page, text)
    expect(error).to_contain_text("isn't a photo we can use")
    assert not presigns  # refused in the browser

    huge = tmp_path / "huge.jpg"
    with open(huge, "wb") as sparse:  # 21 MB that take no disk space
        sparse.write(b"\xff\xd8\xff")
        sparse.truncate(21 * 2**20)
    choose_photo(page, huge)
    expect(error).to_contain_text("too large")
    expect(error).to_contain_text("20 MB")
    assert not presigns

    disguised = tmp_path / "holiday.png"
    disguised.write_text("<!doctype html><html><body><script>alert(1)</script></body></html>")
    choose_photo(page, disguised)
    expect(error).to_contain_text("isn't an image we can read")  # refused by the server's check
    assert len(presigns) == 1
    expect(page.get_by_test_id("create")).to_be_disabled()

    choose_photo(page, PHOTOS / "astronaut.png")
    expect(page.get_by_test_id("create")).to_be_enabled()
    expect(error).to_be_hidden()

    # The session ends (cookies gone): the page says so and goes to the login page, then back.
    page.context.clear_cookies()
    page.get_by_test_id("create").click()
    expect(page.locator("#toast")).to_contain_text("session has expired")
    page.wait_for_url(re.compile(r"/login/\?next=%2F$"))


def test_admin_retries_a_failed_sketch_and_the_owner_sees_it_live(app, pages):
    page = pages.new()
    email = new_email("unlucky")
    register(page, email)
    user_id = page.request.get("/api/auth/me").json()["id"]
    choose_photo(page, PHOTOS / "astronaut.png")
    expect(page.get_by_test_id("create")).to_be_enabled()
    page.get_by_test_id("style-charcoal").click()
    page.get_by_test_id("create").click()
    result = page.get_by_test_id("result-image")
    expect(result).to_be_visible(timeout=30_000)

    # The original vanishes from storage: the next sketch of it fails, and the page says why.
    (original,) = (app.media / "uploads" / str(user_id)).iterdir()
    kept = original.read_bytes()
    original.unlink()
    page.evaluate(OBSERVE_PROGRESS)
    page.get_by_test_id("style-oil").click()
    page.get_by_test_id("create").click()
    job_error = page.get_by_test_id("job-error")
    expect(job_error).to_contain_text("no longer in storage", timeout=60_000)
    expect(job_error).to_contain_text("Oil")
    original.write_bytes(kept)

    # The gallery, in another tab, shows the failed sketch; it will follow the retry live.
    gallery = page.context.new_page()
    gallery.goto("/sketches/")
    oil_card = gallery.get_by_test_id("sketch-card").filter(has_text="Oil")
    expect(oil_card.get_by_test_id("sketch-status")).to_have_text("Failed")
    expect(oil_card).to_contain_text("no longer in storage")

    # A plain user is kept out of the admin.
    assert page.request.get("/admin/", max_redirects=5).status == 403

    # The admin logs in through the site's login page and retries it.
    admin = pages.new()
    admin.goto("/admin/")
    expect(admin).to_have_url(re.compile(r"/login/\?next=/admin/$"))
    admin.fill("#id_email", "admin@example.com")
    admin.fill("#id_password", "sketchy-horse-battery-42")
    admin.click("form button[type=submit]")
    admin.wait_for_url(re.compile(r"/admin/$"))
    expect(admin.get_by_test_id("queue-link")).to_be_visible()
    admin.goto(f"/admin/sketches/sketch/?status__exact=failed&q={email}")
    rows = admin.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("no longer in storage")
    screenshot(admin, "admin-sketches.png")
    rows.first.locator("input.action-select").check()
    admin.select_option("select[name=action]", "retry_selected")
    admin.click("button[name=index]")
    expect(admin.locator(".messagelist")).to_contain_text("1 sketch queued again")

    # The owner's page, never reloaded, shows the finished sketch.
    expect(job_error).to_be_hidden(timeout=30_000)
    expect(result).to_have_attribute("alt", re.compile("Oil"), timeout=30_000)
    expect(result).to_be_visible()
    assert page.evaluate("window.__marker") == "no-reload"
    expect(oil_card.get_by_test_id("sketch-status")).to_have_text("Completed")
    expect(oil_card.locator(".thumb img")).to_have_attribute("alt", re.compile("Oil style"))

    # "Mark as failed" asks for a reason first (here: nothing is running, so nothing to do).
    admin.goto(f"/admin/sketches/sketch/?q={email}")
    admin.locator("#result_list tbody tr").first.locator("input.action-select").check()
    admin.select_option("select[name=action]", "fail_selected")
    admin.click("button[name=index]")
    expect(admin.locator("h1")).to_contain_text("Mark sketches as failed")
    expect(admin.locator("textarea[name=reason]")).to_be_visible()
    expect(admin.locator("text=nothing to mark as failed")).to_be_visible()

    admin.goto("/admin/accounts/user/?q=" + email)
    expect(admin.locator("#result_list tbody tr")).to_have_count(1)
    expect(admin.locator("#result_list tbody tr").first.locator("td.field-sketch_count")).to_have_text("2")


def test_api_docs_and_browsable_api_use_the_same_login(app, pages):
    page = pages.new()
    hosts = set()
    page.on("request", lambda request: hosts.add(re.sub(r"^(\w+://[^/]+).*$", r"\1", request.url)))
    register(page, new_email("developer"))

    page.goto("/api/docs/")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 15
    expect(page.locator(".info")).to_contain_text("sketch.snapshot")  # the WebSocket's messages
    me = page.locator("#operations-auth-auth_me_retrieve")
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    expect(me.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    assert hosts == {app.base_url}, hosts  # nothing from a CDN

    # The browsable API: GET with the cookie, and an unsafe request passes the CSRF check.
    page.goto("/api/sketch/")
    expect(page.locator(".content-main h1")).to_have_text("Sketch List")
    expect(page.locator(".response-info")).to_contain_text("HTTP 200 OK")
    page.goto("/api/sketch/create")
    page.locator("#id__content").fill('{"upload_id": "00000000-0000-0000-0000-000000000000", "style": "ink"}')
    page.locator("#post-generic-content-form button", has_text="POST").click()
    expect(page.locator(".response-info")).to_contain_text("HTTP 404 Not Found")  # not a 403: CSRF passed
    expect(page.locator(".response-info")).to_contain_text("Upload not found")
