"""The admin's pages as an admin meets them: honest counts, a view-only sketch page with its own
job buttons, light upload lists, one date format, and a quiet refusal for non-admins."""

import logging

import pytest

from sketches.models import Sketch

from .test_admin import _plain_static, act, logged_in, make_sketch  # noqa: F401  (the autouse fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiet_queue(monkeypatch):
    monkeypatch.setattr("sketches.queue.enqueue", lambda sketch: None)
    monkeypatch.setattr("sketches.queue.cancel", lambda task_id: None)


def test_retry_from_the_failed_filter_counts_what_was_selected(
    client, admin_user, user, quiet_queue, django_capture_on_commit_callbacks
):
    failed = [make_sketch(user) for _ in range(3)]
    client = logged_in(client, admin_user)
    data = {"action": "retry_selected", "_selected_action": [str(s.pk) for s in failed], "index": 0}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/sketches/sketch/?status__exact=failed", data, follow=True)
    text = response.content.decode()
    assert "3 sketches queued again." in text
    assert "skipped" not in text
    assert set(Sketch.objects.filter(pk__in=[s.pk for s in failed]).values_list("status", flat=True)) == {"queued"}


def test_cancel_from_the_running_filter_counts_what_was_selected(client, admin_user, user, quiet_queue):
    running = [make_sketch(user, status="processing"), make_sketch(user, status="queued")]
    client = logged_in(client, admin_user)
    data = {"action": "cancel_selected", "_selected_action": [str(s.pk) for s in running], "index": 0}
    response = client.post("/admin/sketches/sketch/?state=running", data, follow=True)
    text = response.content.decode()
    assert "2 sketches cancelled." in text and "skipped" not in text


def test_sketch_page_is_read_only_with_job_buttons(client, admin_user, user):
    client = logged_in(client, admin_user)
    failed = make_sketch(user)
    page = client.get(f"/admin/sketches/sketch/{failed.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert f'action="/admin/sketches/sketch/{failed.pk}/job/retry/"' in html
    assert "/job/cancel/" not in html and "/job/fail/" not in html

    running = make_sketch(user, status="processing")
    html = client.get(f"/admin/sketches/sketch/{running.pk}/change/").content.decode()
    assert f'action="/admin/sketches/sketch/{running.pk}/job/cancel/"' in html
    assert f'action="/admin/sketches/sketch/{running.pk}/job/fail/"' in html and 'name="reason"' in html
    assert "/job/retry/" not in html


def test_job_buttons_act_on_one_sketch(client, admin_user, user, quiet_queue, django_capture_on_commit_callbacks):
    client = logged_in(client, admin_user)
    failed, running, other = make_sketch(user), make_sketch(user, status="processing"), make_sketch(user, status="queued")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/sketches/sketch/{failed.pk}/job/retry/", follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/sketches/sketch/{failed.pk}/change/"
    assert "The sketch was queued again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "queued"

    response = client.post(
        f"/admin/sketches/sketch/{running.pk}/job/fail/", {"reason": "Your photo broke the printer."}, follow=True
    )
    assert "The sketch was marked as failed." in response.content.decode()
    running.refresh_from_db()
    assert running.status == "failed" and running.error == "Your photo broke the printer."

    response = client.post(f"/admin/sketches/sketch/{other.pk}/job/fail/", {"reason": ""}, follow=True)
    assert "Write the reason the owner will see." in response.content.decode()
    other.refresh_from_db()
    assert other.status == "queued"

    response = client.post(f"/admin/sketches/sketch/{other.pk}/job/cancel/", follow=True)
    assert "The sketch was cancelled." in response.content.decode()
    # Again: nothing to do now, and the admin is told why.
    response = client.post(f"/admin/sketches/sketch/{other.pk}/job/cancel/", follow=True)
    assert "Nothing done: the sketch is cancelled now." in response.content.decode()

    assert client.get(f"/admin/sketches/sketch/{other.pk}/job/cancel/").status_code == 405
    assert client.post(f"/admin/sketches/sketch/{other.pk}/job/explode/").status_code == 404
    assert client.post("/admin/sketches/sketch/00000000-0000-0000-0000-000000000000/job/retry/").status_code == 404


def test_job_buttons_are_for_admins_only(client, user, quiet_queue):
    failed = make_sketch(user)
    response = logged_in(client, user).post(f"/admin/sketches/sketch/{failed.pk}/job/retry/")
    assert response.status_code in (302, 403)
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_upload_list_loads_no_originals(client, admin_user, user):
    make_sketch(user)
    html = logged_in(client, admin_user).get("/admin/sketches/upload/").content.decode()
    assert "1 upload" in html
    assert "<img" not in html.split('id="result_list"', 1)[1].split("</table>", 1)[0]


def test_admin_lists_write_dates_like_the_pages(client, admin_user, user):
    sketch = make_sketch(user)
    html = logged_in(client, admin_user).get("/admin/sketches/sketch/").content.decode()
    expected = sketch.created_at.strftime("%-d %b %Y, %H:%M")
    assert expected in html, expected


def test_a_non_admin_at_the_admin_gets_a_page_and_no_traceback(client, user, caplog):
    with caplog.at_level(logging.WARNING):
        response = logged_in(client, user).get("/admin/", follow=True)
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]
    assert response.status_code == 403
    assert "Admins only" in response.content.decode() and user.email in response.content.decode()
