"""Share links in the browser: the owner makes one in the gallery, a signed-out visitor opens it,
the owner revokes it and the visitor gets the 410 page. Desktop and phone sizes."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHOTOS, new_email, register, screenshot

DESKTOP_WIDE = {**DESKTOP, "width": 1440}
PHONE = {"width": 390, "height": 844}

# A completed sketch made with the real engine from a test photo (scaled down: the job itself is
# covered elsewhere), its files written through the app's own storage layer.
MAKE_SKETCH = """
import io, uuid
from PIL import Image
from accounts.models import User
from sketches import engine
from sketches.models import Sketch, Upload
from sketches.storage import get_storage

owner = User.objects.get(email={email!r})
photo = Image.open({photo!r}).convert("RGB")
photo.thumbnail((640, 640))
buffer = io.BytesIO()
photo.save(buffer, "JPEG", quality=85)
storage = get_storage()
upload_key = f"uploads/{{owner.pk}}/{{uuid.uuid4().hex}}.jpg"
storage.write(upload_key, buffer.getvalue(), "image/jpeg")
upload = Upload.objects.create(owner=owner, key=upload_key, original_name="private-name.jpg", content_type="image/jpeg",
                               size=len(buffer.getvalue()), width=photo.width, height=photo.height, status="confirmed")
result = engine.encode(engine.render(engine.decode(buffer.getvalue(), 50_000_000), "ink", "basic"), "png")
result_key = f"results/{{owner.pk}}/{{uuid.uuid4().hex}}.png"
storage.write(result_key, result, "image/png")
Sketch.objects.create(owner=owner, upload=upload, style="ink", method="basic", status="completed", progress=100,
                      task_id=uuid.uuid4().hex, result_key=result_key, result_size=len(result),
                      result_width=photo.width, result_height=photo.height)
"""


@pytest.mark.parametrize("viewport", [DESKTOP_WIDE, PHONE], ids=["desktop", "phone"])
def test_owner_shares_visitor_sees_then_revoked_is_gone(app, pages, viewport):
    size = "desktop" if viewport is DESKTOP_WIDE else "phone"
    owner = pages.new(viewport)
    email = new_email("sharer")
    register(owner, email, name="Sharon Secret")
    app.shell(MAKE_SKETCH.format(email=email, photo=str(PHOTOS / "forest-path.jpg")))

    owner.goto("/sketches/")
    card = owner.get_by_test_id("sketch-card")
    expect(card).to_have_count(1)
    share = card.get_by_test_id("share")
    expect(share).to_be_visible()
    share.focus()
    owner.keyboard.press("Enter")  # keyboard-usable
    dialog = owner.get_by_test_id("share-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("radio", name="7 days")).to_be_focused()
    expect(dialog.get_by_test_id("share-links").locator("li")).to_have_count(0)
    dialog.get_by_role("radio", name="30 days").check()
    dialog.get_by_role("checkbox", name=re.compile("Include my photo")).check()
    dialog.get_by_test_id("share-create").click()
    url_box = dialog.get_by_test_id("share-url")
    expect(url_box).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{43}$"))
    expect(url_box).to_be_focused()
    link_url = url_box.input_value()
    links = dialog.get_by_test_id("share-links").locator("li")
    expect(links).to_have_count(1)
    expect(links.first).to_contain_text("Active")
    expect(links.first).to_contain_text("with the photo")
    screenshot(owner, f"share-dialog-{size}.png")

    # A second, signed-out browser sees the sketch and its photo, and nothing else of the app.
    visitor = pages.new(viewport)
    response = visitor.goto(link_url)
    assert response.status == 200
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    assert response.headers["referrer-policy"] == "no-referrer"
    expect(visitor.locator('meta[name="robots"]')).to_have_attribute("content", "noindex, nofollow")
    image = visitor.get_by_test_id("shared-image")
    expect(image).to_be_visible()
    visitor.wait_for_function("document.querySelector('[data-testid=shared-image]').naturalWidth > 0")
    assert image.evaluate("img => img.naturalWidth") == 640
    expect(visitor.get_by_test_id("share-compare")).to_be_visible()
    slider = visitor.get_by_role("slider")
    slider.focus()
    visitor.keyboard.press("Home")
    expect(slider).to_have_attribute("aria-valuetext", "100% sketch, 0% photo")
    expect(visitor.get_by_test_id("shared-download")).to_be_visible()
    hrefs = visitor.locator("a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert [h for h in hrefs if not h.startswith(app.base_url + "/files/")] == ["/"], hrefs
    text = visitor.content()
    for secret in (email, "Sharon Secret", "private-name", "/sketches/", "/api/"):
        assert secret not in text, secret
    no_overflow = visitor.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_overflow
    screenshot(visitor, f"share-page-{size}.png")

    # The owner revokes it; the list says so and the visitor's next visit is a plain 410 page.
    links.first.get_by_test_id("share-revoke").click()
    expect(links.first).to_contain_text("Revoked")
    expect(links.first.get_by_test_id("share-revoke")).to_have_count(0)
    owner.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(share).to_be_focused()

    gone = visitor.goto(link_url)
    assert gone.status == 410
    expect(visitor.get_by_role("heading", level=1)).to_have_text("This link is no longer available")
    expect(visitor.get_by_test_id("shared-image")).to_have_count(0)
    screenshot(visitor, f"share-gone-{size}.png")
    assert pages.errors == [] or all("410" in error for error in pages.errors), pages.errors
