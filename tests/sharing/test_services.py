"""The share-link services: who may share what, the token, expiry, revocation, lookup."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from sketches import services, sharing
from sketches.models import ShareLink


def test_create_gives_a_256_bit_token_and_stores_only_its_hash(user, make_sketch):
    sketch = make_sketch(user)
    new = sharing.create_link(user, sketch.pk, expires_in_days=7, include_original=True)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", new.token)  # 43 base64url characters = 256 bits
    row = ShareLink.objects.get(pk=new.link.pk)
    assert row.token_hash == hashlib.sha256(new.token.encode()).hexdigest()
    assert row.token_prefix == new.token[:6]
    stored = [str(value) for value in ShareLink.objects.filter(pk=row.pk).values().first().values()]
    assert all(new.token not in value for value in stored)  # the token itself is nowhere in the row
    assert row.include_original is True and row.created_by == user
    assert abs(row.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(seconds=10)


def test_tokens_do_not_repeat(user, make_sketch):
    sketch = make_sketch(user)
    tokens = {sharing.create_link(user, sketch.pk, expires_in_days=1).token for _ in range(50)}
    assert len(tokens) == 50


def test_only_the_owner_shares_and_only_completed_sketches(user, make_user, make_sketch):
    other, admin = make_user(), make_user(role="admin")
    sketch = make_sketch(user)
    for stranger in (other, admin):
        with pytest.raises(services.NotFound):
            sharing.create_link(stranger, sketch.pk, expires_in_days=1)
    with pytest.raises(services.NotFound):
        sharing.create_link(user, "not-a-uuid", expires_in_days=1)
    for status in ("queued", "processing", "failed", "cancelled"):
        with pytest.raises(services.Conflict) as error:
            sharing.create_link(user, make_sketch(user, status=status).pk, expires_in_days=1)
        assert error.value.status == 409 and error.value.code == "sketch_not_completed"
        assert status in error.value.message
    with pytest.raises(services.ServiceError) as error:
        sharing.create_link(user, sketch.pk, expires_in_days=2)
    assert error.value.code == "invalid_expiry"
    assert not ShareLink.objects.exists()


def test_resolve_counts_views_and_refuses_unknown_expired_and_revoked(user, make_sketch):
    sketch = make_sketch(user)
    new = sharing.create_link(user, sketch.pk, expires_in_days=1)
    assert sharing.resolve(new.token).sketch == sketch
    assert sharing.resolve(new.token).pk == new.link.pk
    link = ShareLink.objects.get(pk=new.link.pk)
    assert link.view_count == 2 and link.last_viewed_at is not None

    for bad in ("", "short", new.token[:-1] + ("A" if new.token[-1] != "A" else "B"), new.token + "x", None):
        with pytest.raises(services.NotFound):
            sharing.resolve(bad)

    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(sharing.LinkGone) as gone:
        sharing.resolve(new.token)
    assert gone.value.status == 410 and gone.value.state == "expired"

    other = sharing.create_link(user, sketch.pk, expires_in_days=30)
    sharing.revoke_link(user, sketch.pk, other.link.pk)
    with pytest.raises(sharing.LinkGone) as gone:
        sharing.resolve(other.token)
    assert gone.value.state == "revoked"


def test_revoke_is_idempotent_and_owner_only(user, make_user, make_sketch):
    sketch = make_sketch(user)
    new = sharing.create_link(user, sketch.pk, expires_in_days=1)
    first = sharing.revoke_link(user, sketch.pk, new.link.pk).revoked_at
    assert first is not None
    assert sharing.revoke_link(user, sketch.pk, new.link.pk).revoked_at == first
    fresh = sharing.create_link(user, sketch.pk, expires_in_days=1)
    with pytest.raises(services.NotFound):
        sharing.revoke_link(make_user(), sketch.pk, fresh.link.pk)
    with pytest.raises(services.NotFound):
        sharing.revoke_link(user, make_sketch(user).pk, fresh.link.pk)  # a link of another sketch
    assert ShareLink.objects.get(pk=fresh.link.pk).revoked_at is None


def test_lists_and_deleting_the_sketch_deletes_its_links(user, make_user, make_sketch):
    first, second = make_sketch(user), make_sketch(user)
    a = sharing.create_link(user, first.pk, expires_in_days=1).link
    b = sharing.create_link(user, first.pk, expires_in_days=7).link
    c = sharing.create_link(user, second.pk, expires_in_days=30).link
    assert [link.pk for link in sharing.list_links(user, first.pk)] == [b.pk, a.pk]
    assert [link.pk for link in sharing.list_user_links(user)] == [c.pk, b.pk, a.pk]
    assert list(sharing.list_user_links(make_user())) == []
    services.delete_sketch(user, first.pk)
    assert set(ShareLink.objects.values_list("pk", flat=True)) == {c.pk}
