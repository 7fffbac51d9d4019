"""The public page /s/<token>: that sketch only, unindexed, plain 404/410 pages, a brake on guessing."""

from datetime import timedelta

from django.utils import timezone

from sketches import sharing
from sketches.models import ShareLink
from sketches.share_throttle import ShareLookupThrottle
from sketches.storage import get_storage


def assert_unlisted(response):
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    assert b'<meta name="robots" content="noindex, nofollow">' in response.content


def test_page_shows_the_sketch_and_nothing_of_the_owner(client, user, make_sketch, make_user):
    user.display_name = "Jane Secret"
    user.save()
    sketch = make_sketch(user)
    other = make_sketch(user)
    new = sharing.create_link(user, sketch.pk, expires_in_days=1)
    response = client.get(f"/s/{new.token}")
    assert response.status_code == 200
    assert_unlisted(response)
    html = response.content.decode()
    assert "Ink sketch" in html
    assert f"/files/{sketch.result_key}" in html  # a signed link to the result...
    assert sketch.upload.key not in html  # ...and not to the photo
    assert other.result_key not in html
    for secret in (user.email, "Jane Secret", "Jane Doe", str(user.pk) + "/", "/sketches/", "/account/", "/admin/", "/api/"):
        assert secret not in html.replace(f"/files/{sketch.result_key}", ""), secret
    assert 'data-testid="share-compare"' not in html
    assert 'download data-testid="shared-download"' in html


def test_result_link_on_the_page_downloads_the_file(client, user, make_sketch):
    sketch = make_sketch(user)
    new = sharing.create_link(user, sketch.pk, expires_in_days=1)
    html = client.get(f"/s/{new.token}").content.decode()
    href = html[html.index('href="http://testserver/files/') + 6 :].split('"', 1)[0].replace("&amp;", "&")
    download = client.get(href.replace("http://testserver", ""))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == get_storage().read(sketch.result_key)
    assert 'filename="sketch-ink-advanced.png"' in download["Content-Disposition"]


def test_before_after_when_the_original_is_included(client, user, make_sketch):
    sketch = make_sketch(user)
    new = sharing.create_link(user, sketch.pk, expires_in_days=7, include_original=True)
    html = client.get(f"/s/{new.token}").content.decode()
    assert 'data-testid="share-compare"' in html
    assert f"/files/{sketch.upload.key}" in html and f"/files/{sketch.result_key}" in html
    assert "js/shared.js" in html and 'type="range"' in html


def test_a_photo_browsers_cannot_show_is_left_out(client, user, make_sketch):
    sketch = make_sketch(user)
    sketch.upload.content_type = "image/heic"
    sketch.upload.save()
    new = sharing.create_link(user, sketch.pk, expires_in_days=1, include_original=True)
    html = client.get(f"/s/{new.token}").content.decode()
    assert 'data-testid="share-compare"' not in html and sketch.upload.key not in html
    assert f"/files/{sketch.result_key}" in html


def test_unknown_is_a_plain_404_and_expired_or_revoked_a_plain_410(client, user, make_sketch):
    sketch = make_sketch(user)
    missing = client.get("/s/" + "A" * 43)
    assert missing.status_code == 404
    assert_unlisted(missing)
    assert b"Link not found" in missing.content and b"/sketches/" not in missing.content
    assert client.get("/s/short").status_code == 404

    expired = sharing.create_link(user, sketch.pk, expires_in_days=1)
    ShareLink.objects.filter(pk=expired.link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(f"/s/{expired.token}")
    assert response.status_code == 410
    assert_unlisted(response)
    assert b"The share link has expired." in response.content
    assert sketch.result_key.encode() not in response.content

    revoked = sharing.create_link(user, sketch.pk, expires_in_days=1)
    sharing.revoke_link(user, sketch.pk, revoked.link.pk)
    response = client.get(f"/s/{revoked.token}")
    assert response.status_code == 410
    assert b"The owner has withdrawn this share link." in response.content
    assert sketch.result_key.encode() not in response.content


def test_signed_in_visitors_see_the_same_bare_page(client, user, make_sketch, logged_in):
    new = sharing.create_link(user, make_sketch(user).pk, expires_in_days=1)
    html = logged_in(client, user).get(f"/s/{new.token}").content.decode()
    assert user.email not in html and "Log out" not in html and "My sketches" not in html


def test_lookups_are_throttled_per_ip(client, user, make_sketch, monkeypatch):
    monkeypatch.setattr(ShareLookupThrottle, "rate", "3/min", raising=False)
    new = sharing.create_link(user, make_sketch(user).pk, expires_in_days=1)
    statuses = [client.get("/s/" + c * 43).status_code for c in "ABC"]
    assert statuses == [404, 404, 404]
    blocked = client.get(f"/s/{new.token}")  # even a good token waits once the brake is on
    assert blocked.status_code == 429
    assert 1 <= int(blocked["Retry-After"]) <= 60
    assert_unlisted(blocked)
    assert b"Too many requests" in blocked.content
    assert client.get(f"/s/{new.token}", REMOTE_ADDR="10.9.8.7").status_code == 200  # another address


def test_default_rate_is_configured():
    from django.conf import settings

    count, period = ShareLookupThrottle().parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["share_ip"])
    assert (count, period) == (60, 60)


def test_post_is_refused(client, user, make_sketch):
    new = sharing.create_link(user, make_sketch(user).pk, expires_in_days=1)
    assert client.post(f"/s/{new.token}").status_code == 405
    assert client.head(f"/s/{new.token}").status_code == 200
