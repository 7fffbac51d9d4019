"""The admin for users and jobs: who gets in, the sketch actions, the queue page."""

import uuid
from pathlib import Path

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from accounts.tokens import issue_pair
from sketches.models import Sketch, Upload


@pytest.fixture(autouse=True)
def _plain_static(settings):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.SECURE_SSL_REDIRECT = False
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def logged_in(client, user):
    client.cookies["access_token"] = issue_pair(user).access
    return client


def make_sketch(owner, status="failed", **fields):
    upload = Upload.objects.create(
        owner=owner, key=f"uploads/{owner.pk}/{uuid.uuid4().hex}.png", content_type="image/png", status="confirmed", size=10
    )
    defaults = {
        "style": "ink",
        "method": "basic",
        "task_id": uuid.uuid4().hex,
        "error": "It broke." if status == "failed" else "",
    }
    return Sketch.objects.create(owner=owner, upload=upload, status=status, **{**defaults, **fields})


def act(client, action, sketches, follow=False, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(s.pk) for s in sketches], "index": 0, **extra}
    return client.post("/admin/sketches/sketch/", data, follow=follow)


def test_only_admins_get_in(client, user, admin_user):
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/", follow=True).redirect_chain[-1][0] in ("/login/?next=/admin/", "/login/?next=%2Fadmin%2F")
    assert logged_in(client, user).get("/admin/", follow=True).status_code == 403
    page = logged_in(client, admin_user).get("/admin/")
    assert page.status_code == 200
    assert b"Queue dashboard" in page.content  # REDIS_URL is set under test: django-rq's page
    assert logged_in(client, admin_user).get("/admin/django_rq/dashboard/").status_code == 200


def test_sketch_list_filters_and_search(client, admin_user, make_user):
    alice, bob = make_user(email="alice@example.com"), make_user(email="bob@example.com")
    make_sketch(alice, style="pencil")
    make_sketch(bob, status="completed", style="oil", method="artistic")
    client = logged_in(client, admin_user)
    assert client.get("/admin/sketches/sketch/?q=alice@").context["cl"].result_count == 1
    assert client.get("/admin/sketches/sketch/?style=oil&method=artistic").context["cl"].result_count == 1
    assert client.get("/admin/sketches/sketch/?status__exact=failed&state=finished").context["cl"].result_count == 1
    users = client.get("/admin/accounts/user/?q=alice@")
    assert users.status_code == 200 and b"owner__id__exact" in users.content
    assert client.get("/admin/sketches/upload/").status_code == 200


def test_retry_cancel_and_fail_with_a_reason(client, admin_user, user, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("sketches.queue.enqueue", lambda sketch: None)
    monkeypatch.setattr("sketches.queue.cancel", lambda task_id: None)
    failed, running, done = make_sketch(user), make_sketch(user, status="processing"), make_sketch(user, status="completed")
    client = logged_in(client, admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(client, "retry_selected", [failed, done], follow=True)
    assert "1 sketch queued again. 1 skipped" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "queued" and failed.error == ""

    # Mark as failed: first a page that asks for the reason, then the change.
    ask = act(client, "fail_selected", [running])
    assert ask.status_code == 200 and b'name="reason"' in ask.content
    act(client, "fail_selected", [running], apply="1", reason="Stuck on a broken worker.")
    running.refresh_from_db()
    assert running.status == "failed" and running.error == "Stuck on a broken worker."

    act(client, "cancel_selected", [failed])
    failed.refresh_from_db()
    assert failed.status == "cancelled" and "administrator" in failed.error


def test_an_admin_setting_a_password_or_deactivating_ends_the_users_logins(client, admin_user, make_user):
    from rest_framework.test import APIClient

    victim = make_user()
    pair = issue_pair(victim)
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    assert me.get("/api/auth/me").status_code == 200
    logged_in(client, admin_user)
    response = client.post(
        f"/admin/accounts/user/{victim.pk}/password/",
        {"password1": "fresh-Admin-Set-9382", "password2": "fresh-Admin-Set-9382", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:500]
    assert me.get("/api/auth/me").status_code == 401
    # Deactivating by the change form (not the action) ends them too.
    second = APIClient()
    second.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_pair(victim).access}")
    assert second.get("/api/auth/me").status_code == 200
    victim.refresh_from_db()
    victim.is_active = False
    victim.save()
    assert second.get("/api/auth/me").status_code == 401
    from accounts.models import AuthSession

    assert not AuthSession.objects.filter(user=victim, ended_at__isnull=True).exists()  # sockets were told too
    assert set(AuthSession.objects.filter(user=victim).values_list("end_reason", flat=True)) == {"password_change", "deactivated"}
