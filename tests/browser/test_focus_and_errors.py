"""Keyboard and screen-reader users keep their place: focus never falls to <body>, errors lead
to their fields, the hints say what is really happening, and the colours that show focus and
field edges reach WCAG's 3:1 for non-text contrast."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PASSWORD, PHONE, PHOTOS, choose_photo, new_email, register, screenshot

pytestmark = pytest.mark.browser

# Every text the create hint takes, in order.
OBSERVE_HINT = """() => {
  window.__hints = [];
  const hint = document.getElementById("create-hint");
  new MutationObserver(() => window.__hints.push(hint.textContent))
    .observe(hint, {childList: true, characterData: true, subtree: true});
}"""
FOCUSED = "document.activeElement === document.body ? 'BODY' : document.activeElement.id || document.activeElement.className"


def contrast(rgb_a: str, rgb_b: str) -> float:
    def luminance(css: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted([luminance(rgb_a), luminance(rgb_b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_focus_follows_upload_create_result_and_delete(app, pages, viewport):
    page = pages.new(viewport)
    register(page, new_email("keys"))
    page.evaluate(OBSERVE_HINT)

    # The photo input disappears with the dropzone: the photo's region takes the focus.
    page.locator("#photo-input").focus()
    choose_photo(page, PHOTOS / "astronaut.png")
    expect(page.locator("#canvas")).to_be_focused()
    expect(page.get_by_test_id("create")).to_be_enabled()
    assert page.evaluate(FOCUSED) != "BODY"

    # Someone else's big photo keeps the one worker thread busy, so this sketch waits in line.
    other = pages.new()
    register(other, new_email("busy"))
    choose_photo(other, PHOTOS / "forest-path.jpg")
    other.get_by_test_id("create").click()
    expect(other.get_by_test_id("job-stage")).to_contain_text(re.compile("Fetching|Reading|Drawing"), timeout=30_000)

    # Create by keyboard: the button is disabled while it runs, the status region takes over,
    # then the Download link once the result is on screen.
    page.get_by_test_id("create").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#job-status")).to_be_focused()
    expect(page.locator("#create-hint")).to_have_text("Waiting in line… you can change the settings for the next one.")
    expect(page.get_by_test_id("result-image")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("download")).to_be_focused()
    hints = page.evaluate("window.__hints")
    waiting = [i for i, h in enumerate(hints) if h.startswith("Waiting in line")]
    drawing = [i for i, h in enumerate(hints) if h.startswith("Drawing")]
    assert waiting and waiting[0] < min(drawing, default=len(hints)), hints  # queued first, never "Drawing" then

    # A second sketch, then delete both from the gallery by keyboard.
    page.get_by_test_id("style-ink").click()
    page.get_by_test_id("create").click()
    expect(page.get_by_test_id("result-image")).to_have_attribute("alt", re.compile("Ink"), timeout=60_000)
    page.get_by_role("link", name="My sketches").click()
    cards = page.get_by_test_id("sketch-card")
    expect(cards).to_have_count(2)
    cards.first.get_by_test_id("delete").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("confirm-delete").focus()
    page.keyboard.press("Enter")
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".title")).to_be_focused()  # the card that took its place
    cards.first.get_by_test_id("delete").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("confirm-delete").click()
    expect(cards).to_have_count(0)
    expect(page.locator("#empty-title")).to_be_focused()
    screenshot(page, f"gallery-empty-focus-{viewport['width']}.png")


def test_a_refused_fake_jpeg_leaves_no_broken_preview(app, pages, tmp_path):
    page = pages.new()
    register(page, new_email("fake"))
    fake = tmp_path / "holiday.jpg"
    fake.write_bytes(b"\xff\xd8\xff\xe0" + b"this is not really a photo " * 200)
    choose_photo(page, fake)
    error = page.get_by_test_id("studio-error")
    expect(error).to_contain_text("damaged or incomplete")
    expect(page.locator("#canvas")).to_be_hidden()
    expect(page.get_by_test_id("dropzone")).to_be_visible()
    assert page.locator("#before-img").get_attribute("src") is None
    photo = page.locator("#photo-input")
    expect(photo).to_be_focused()
    expect(photo).to_have_attribute("aria-invalid", "true")
    expect(photo).to_have_attribute("aria-describedby", "upload-error")
    expect(page.get_by_test_id("create")).to_be_disabled()
    screenshot(page, "studio-fake-jpeg.png")

    # A good photo afterwards clears the error.
    choose_photo(page, PHOTOS / "astronaut.png")
    expect(page.get_by_test_id("create")).to_be_enabled()
    expect(error).to_be_hidden()
    assert photo.get_attribute("aria-invalid") is None


def test_form_errors_lead_to_their_fields(app, pages):
    page = pages.new()
    page.goto("/register/")
    page.fill("#id_email", new_email("weak"))
    page.fill("#id_password", "123")
    page.click("form button[type=submit]")
    password = page.locator("#id_password")
    expect(password).to_be_focused()
    expect(password).to_have_attribute("aria-invalid", "true")
    described = password.get_attribute("aria-describedby").split()
    errors = " ".join(page.locator(f"#{i}").inner_text() for i in described)
    assert "too short" in errors or "at least 8" in errors.lower(), errors

    page.goto("/login/")
    page.fill("#id_email", "not an email")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    email = page.locator("#id_email")
    expect(email).to_be_focused()
    expect(page.locator("#" + email.get_attribute("aria-describedby"))).to_contain_text("valid email")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_focus_ring_and_field_borders_reach_3_to_1_and_style_names_fit(app, pages, viewport):
    page = pages.new(viewport)
    page.goto("/login/")
    email = page.locator("#id_email")
    border = email.evaluate("e => getComputedStyle(e).borderTopColor")
    assert contrast(border, "rgb(255, 255, 255)") >= 3, border
    page.keyboard.press("Tab")  # the skip link
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert contrast(ring, "rgb(255, 255, 255)") >= 3 and contrast(ring, "rgb(246, 244, 239)") >= 3, ring

    register(page, new_email("names"))
    for name in page.locator(".style-choice .name").all():
        width, client, height = name.evaluate("e => [e.scrollWidth, e.clientWidth, e.getBoundingClientRect().height]")
        line = float(name.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 16"))
        assert width <= client and height < 2 * line + 8, (name.inner_text(), width, client, height)
        assert name.evaluate("e => getComputedStyle(e).textOverflow") != "ellipsis" or width <= client
