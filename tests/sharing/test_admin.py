"""Share links in the admin: the list with its state filter, the revoke action, the sketch's inline."""

from datetime import timedelta

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.utils import timezone

from sketches import sharing
from sketches.models import ShareLink


def three_links(user, make_sketch):
    sketch = make_sketch(user)
    active, expired, revoked = (sharing.create_link(user, sketch.pk, expires_in_days=1).link for _ in range(3))
    ShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    sharing.revoke_link(user, sketch.pk, revoked.pk)
    return sketch, active, expired, revoked


def ids(response):
    return {link.pk for link in response.context["cl"].result_list}


def test_list_and_state_filter(client, admin_user, user, make_sketch, logged_in):
    _, active, expired, revoked = three_links(user, make_sketch)
    client = logged_in(client, admin_user)
    response = client.get("/admin/sketches/sharelink/")
    assert response.status_code == 200
    assert ids(response) == {active.pk, expired.pk, revoked.pk}
    assert user.email.encode() in response.content
    assert ids(client.get("/admin/sketches/sharelink/?state=active")) == {active.pk}
    assert ids(client.get("/admin/sketches/sharelink/?state=expired")) == {expired.pk}
    assert ids(client.get("/admin/sketches/sharelink/?state=revoked")) == {revoked.pk}
    assert client.get(f"/admin/sketches/sharelink/{active.pk}/change/").status_code == 200


def test_revoke_action_counts_before_the_change(client, admin_user, user, make_sketch, logged_in):
    _, active, expired, revoked = three_links(user, make_sketch)
    first_revocation = ShareLink.objects.get(pk=revoked.pk).revoked_at
    data = {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [str(active.pk), str(revoked.pk)], "index": 0}
    response = logged_in(client, admin_user).post("/admin/sketches/sharelink/", data, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["1 share link revoked. 1 skipped: they were revoked already."]
    assert ShareLink.objects.get(pk=active.pk).state == "revoked"
    assert ShareLink.objects.get(pk=revoked.pk).revoked_at == first_revocation
    assert ShareLink.objects.get(pk=expired.pk).revoked_at is None


def test_users_cannot_reach_it(client, user, make_sketch, logged_in):
    three_links(user, make_sketch)
    assert Client().get("/admin/sketches/sharelink/").status_code == 302  # to the login page
    assert logged_in(client, user).get("/admin/sketches/sharelink/", follow=True).status_code == 403


def test_sketch_page_lists_its_links_and_deleting_the_sketch_removes_them(client, admin_user, user, make_sketch, logged_in):
    sketch, active, expired, revoked = three_links(user, make_sketch)
    client = logged_in(client, admin_user)
    page = client.get(f"/admin/sketches/sketch/{sketch.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for link in (active, expired, revoked):
        assert f"{link.token_prefix}" in html
    assert "Active" in html and "Expired" in html and "Revoked" in html
    data = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(sketch.pk)], "post": "yes"}
    response = client.post("/admin/sketches/sketch/", data, follow=True)
    assert response.status_code == 200
    assert not ShareLink.objects.exists()
